"""What goes on a document, as plain frozen values (no ORM): services build them from models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

PAPER_SIZES = ("A4", "Letter")

# Countries that write "City, ST 12345" on one line; most others write "12345 City".
_CITY_FIRST = frozenset({"US", "CA", "AU", "NZ", "PR"})
# Countries where the postcode goes on a line of its own, after the town.
_POSTCODE_OWN_LINE = frozenset({"GB", "IE"})


def _country_name(code: str) -> str:
    """The English country name in capitals, as postal services want it; the code if unknown."""
    try:
        from django_countries import countries

        return str(countries.name(code) or code).upper()
    except Exception:  # Django not configured (e.g. a script): the ISO code still routes the parcel.
        return code.upper()


@dataclass(frozen=True)
class AddressBlock:
    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    street3: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""

    def lines(self, *, with_country: bool = True, with_phone: bool = False) -> tuple[str, ...]:
        """The address as printed lines, empty parts left out."""
        country = self.country.strip().upper()
        city, state, postal = self.city.strip(), self.state.strip(), self.postal_code.strip()
        if country in _CITY_FIRST:
            region = " ".join(part for part in (state, postal) if part)
            locality = [", ".join(part for part in (city, region) if part)]
        elif country in _POSTCODE_OWN_LINE:
            locality = [city, state, postal]
        else:
            locality = [" ".join(part for part in (postal, city) if part), state]
        parts = [self.name, self.company, self.street1, self.street2, self.street3, *locality]
        if with_country and country:
            parts.append(_country_name(country))
        if with_phone and self.phone:
            parts.append(self.phone)
        return tuple(line for line in (part.strip() for part in parts) if line)


@dataclass(frozen=True)
class LabelData:
    ship_from: AddressBlock
    ship_to: AddressBlock
    carrier_name: str
    service_name: str
    tracking_number: str
    order_number: str
    weight_text: str  # already formatted, e.g. "1.2 kg" or "2 lb 3 oz"
    ship_date: date
    reference: str = ""


@dataclass(frozen=True)
class SlipItem:
    sku: str
    name: str
    quantity: int
    options: tuple[tuple[str, str], ...] = ()
    stock_location: str = ""
    image_url: str = ""
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class PackingSlipData:
    company_name: str
    logo_url: str
    order_number: str
    order_date: datetime
    store_name: str
    customer_name: str
    customer_email: str
    customer_phone: str
    ship_to: AddressBlock
    bill_to: AddressBlock | None
    items: tuple[SlipItem, ...]
    gift: bool = False
    gift_message: str = ""
    customer_notes: str = ""
    requested_service: str = ""
    paper: str = "A4"  # "A4" | "Letter" (Merchant.packing_slip_paper)
    currency: str = ""

    def __post_init__(self) -> None:
        if self.paper not in PAPER_SIZES:
            raise ValueError(f"paper must be one of {PAPER_SIZES}, not {self.paper!r}")
