"""Seeded generators of Back Market orders and listings for the sandbox (standard library only).

Orders are shaped like the live payloads described in the reference (docs/reference/backmarket-api.md §2.4-2.6):
snake_case addresses, money as decimal strings, orderline ``price`` = line total, ``listing`` = seller SKU,
orderline ``id`` distinct from ``order_id``, timestamps in mixed formats (``Z``, ``+00:00``, ``+01:00``, with and
without microseconds).

Listings (§5.2) come from :class:`ListingGenerator`: one per (product, condition, keyboard layout), with a price per
market, SKUs from :func:`sku_for` (the SKUs the generated orders sell) and product UUIDs from :func:`product_uuid`.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# Order state -> the orderline state its lines are in (reference §3.1/§3.2).
LINE_STATE_FOR_ORDER_STATE = {0: 0, 1: 1, 3: 2, 8: 7, 9: 3, 10: 8}

PAYMENT_METHODS = (
    "CARD", "APPLE_PAY", "PAYPAL", "KLARNA_SLICE_IT", "KLARNA_PAY_LATER", "KLARNA_PAY_NOW",
    "CLEARPAY", "GOOGLE_PAY", "ONEY3X", "ONEY4X", "SOFORT",
)  # fmt: skip
INSTALMENT_METHODS = {"KLARNA_SLICE_IT", "ONEY3X", "ONEY4X", "CLEARPAY"}


@dataclass(frozen=True)
class Market:
    code: str
    country: str
    currency: str
    rate: Decimal  # multiplier from the EUR base price
    shippers: tuple[str, ...]
    payments: tuple[str, ...]  # market-specific extras, added to the common ones
    layout: str  # keyboard layout in MacBook titles
    phone: str  # phone pattern, '#' = digit
    email_domain: str
    sales_tax: Decimal = Decimal("0")


MARKETS: dict[str, Market] = {
    m.code: m
    for m in (
        Market("fr-fr", "FR", "EUR", Decimal("1"), ("Colissimo", "Chronopost", "DPD FR", "UPS Express"),
               ("ONEY3X", "ONEY4X", "KLARNA_PAY_LATER"), "AZERTY - French", "06 ## ## ## ##", "example.fr"),
        Market("de-de", "DE", "EUR", Decimal("1"), ("DHL", "DHL Express", "DPD DE", "Hermes - DE"),
               ("SOFORT", "KLARNA_PAY_NOW", "KLARNA_SLICE_IT"), "QWERTZ - German", "+49 151 ########", "example.de"),
        Market("en-gb", "GB", "GBP", Decimal("0.86"), ("Royal Mail", "Royal Mail Express", "DPD UK", "DHL Express"),
               ("CLEARPAY", "KLARNA_SLICE_IT"), "QWERTY - English", "07700 9#####", "example.co.uk"),
        Market("es-es", "ES", "EUR", Decimal("1"), ("Correos", "Seur", "DHL Express"),
               ("ONEY3X", "KLARNA_PAY_LATER"), "QWERTY - Spanish", "+34 6## ### ###", "example.es"),
        Market("it-it", "IT", "EUR", Decimal("1"), ("Poste Italiane", "BRT", "GLS - IT"),
               ("ONEY4X", "KLARNA_SLICE_IT"), "QWERTY - Italian", "+39 34# ### ####", "example.it"),
        Market("en-us", "US", "USD", Decimal("1.08"), ("UPS Ground", "USPS - Priority Mail", "FedEx"),
               ("KLARNA_PAY_LATER",), "QWERTY - English", "(212) 555-01##", "example.com", Decimal("0.08875")),
        Market("el-gr", "GR", "EUR", Decimal("1"), ("DHL Express", "UPS standard"),
               (), "QWERTY - Greek", "+30 69# ### ####", "example.gr"),
        Market("ja-jp", "JP", "JPY", Decimal("160"), ("Yamato", "Sagawa", "Japan Post"),
               (), "JIS - Japanese", "090-####-####", "example.jp"),
    )
}  # fmt: skip
MARKET_WEIGHTS = {"fr-fr": 4, "de-de": 3, "en-gb": 3, "es-es": 2, "it-it": 2, "en-us": 2, "el-gr": 1, "ja-jp": 1}


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    street: str
    street2: str
    postal_code: str
    city: str
    email_local: str
    kana: tuple[str, str] | None = None  # (first, last) pronunciation, Japan only
    tag: str = ""  # what the name exercises: polish, umlaut, greek, cyrillic, japanese


PEOPLE: dict[str, tuple[Person, ...]] = {
    "fr-fr": (
        Person("Camille", "Dubois", "12 rue de la République", "", "69002", "Lyon", "camille.dubois"),
        Person("Hélène", "Lefèvre", "8 avenue Jean Jaurès", "Bâtiment B, 3e étage", "75019", "Paris", "h.lefevre"),
        Person("François", "Moreau", "45 boulevard de la Liberté", "", "59800", "Lille", "francois.moreau"),
        Person("Zoé", "Garnier-Laurent", "3 impasse des Lilas", "", "33000", "Bordeaux", "zoe.gl"),
    ),
    "de-de": (
        Person("Jürgen", "Müller", "Hauptstraße 5", "", "10115", "Berlin", "j.mueller", tag="umlaut"),
        Person("Björn", "Schäfer", "Königsallee 12", "3. OG", "40212", "Düsseldorf", "bjoern.s", tag="umlaut"),
        Person("Zofia", "Wójcik", "Schönhauser Allee 80", "Hinterhaus", "10439", "Berlin", "zofia.w", tag="polish"),
        Person("Олена", "Коваленко", "Leopoldstraße 44", "", "80802", "München", "olena.k", tag="cyrillic"),
        Person("Grzegorz", "Brzęczyszczykiewicz", "Große Bleichen 1", "", "20354", "Hamburg", "grzegorz.b",
               tag="polish"),
    ),
    "en-gb": (
        Person("Oliver", "Smith", "1 High St", "Flat 2", "SW1A 1AA", "London", "oliver.smith"),
        Person("Siobhán", "O'Connor", "27 Deansgate", "", "M3 4LQ", "Manchester", "siobhan.oc"),
        Person("Małgorzata", "Kowalczyk", "14 Cowley Road", "Flat 3B", "OX4 1HP", "Oxford", "m.kowalczyk",
               tag="polish"),
        Person("Amelia", "Jones", "5 Queen Street", "", "CF10 2BU", "Cardiff", "amelia.jones"),
    ),
    "es-es": (
        Person("José", "Martínez", "Calle de Alcalá 45", "3º izquierda", "28014", "Madrid", "jose.martinez"),
        Person("María", "Núñez Peña", "Carrer de Mallorca 210", "", "08008", "Barcelona", "maria.nunez"),
    ),
    "it-it": (
        Person("Giuseppe", "Rossi", "Via Roma 10", "", "20121", "Milano", "g.rossi"),
        Person("Niccolò", "Bianchi", "Corso Vittorio Emanuele II 154", "Scala B", "00186", "Roma", "niccolo.b"),
    ),
    "en-us": (
        Person("John", "Carter", "123 Main St", "Apt 4B", "10001", "New York", "john.carter"),
        Person("Ashley", "Nguyen", "500 Pine Street", "Suite 300", "98101", "Seattle", "ashley.nguyen"),
        Person("Luis", "Peña", "2100 Congress Ave", "", "78701", "Austin", "luis.pena"),
    ),
    "el-gr": (
        Person("Γιώργος", "Παπαδόπουλος", "Ερμού 25", "", "105 63", "Αθήνα", "g.papadopoulos", tag="greek"),
        Person("Ελένη", "Κωνσταντίνου", "Τσιμισκή 43", "2ος όροφος", "546 23", "Θεσσαλονίκη", "eleni.k", tag="greek"),  # noqa: RUF001
    ),
    "ja-jp": (
        Person("太郎", "山田", "丸の内1-9-1", "グラントウキョウノースタワー 10F", "100-0005", "東京都千代田区",
               "taro.yamada", ("タロウ", "ヤマダ"), tag="japanese"),
        Person("花子", "佐藤", "梅田3-1-1", "", "530-0001", "大阪市北区", "hanako.sato", ("ハナコ", "サトウ"),
               tag="japanese"),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Product:
    stem: str  # seller SKU stem
    title: str  # "{layout}" is replaced by the market's keyboard layout
    brand: str
    category: str  # "smartphone" | "laptop"
    product_id: int  # legacy backmarket_id
    base_eur: Decimal
    tac: str = ""  # first 8 IMEI digits (smartphones)


PRODUCTS: tuple[Product, ...] = (
    Product("IPH13-128-MID", "iPhone 13 128GB - Midnight - Unlocked", "apple", "smartphone", 141, Decimal("389"),
            "35391110"),
    Product("IPH14P-256-PUR", "iPhone 14 Pro 256GB - Deep Purple - Unlocked", "apple", "smartphone", 224,
            Decimal("799"), "35260711"),
    Product("IPH12-64-BLU", "iPhone 12 64GB - Blue - Unlocked", "apple", "smartphone", 118, Decimal("279"),
            "35305311"),
    Product("IPHSE22-64-STA", "iPhone SE (2022) 64GB - Starlight - Unlocked", "apple", "smartphone", 187,
            Decimal("189"), "35617315"),
    Product("GS22-128-BLK", "Galaxy S22 128GB - Phantom Black - Unlocked", "samsung", "smartphone", 176,
            Decimal("329"), "35062774"),
    Product("GS23U-256-GRN", "Galaxy S23 Ultra 256GB - Green - Unlocked", "samsung", "smartphone", 239,
            Decimal("719"), "35077819"),
    Product("GA54-128-GRA", "Galaxy A54 5G 128GB - Awesome Graphite - Unlocked", "samsung", "smartphone", 251,
            Decimal("229"), "35245632"),
    Product("PIX7-128-OBS", "Pixel 7 128GB - Obsidian - Unlocked", "google", "smartphone", 205, Decimal("299"),
            "35595361"),
    Product("PIX8P-128-BAY", "Pixel 8 Pro 128GB - Bay - Unlocked", "google", "smartphone", 262, Decimal("579"),
            "35819872"),
    Product("MBA13-M1-8-256", "MacBook Air 13-inch (2020) - Apple M1 8-core and 7-core GPU - 8GB RAM - SSD 256GB - "
            "{layout}", "apple", "laptop", 96, Decimal("549")),
    Product("MBA13-M2-8-512", "MacBook Air 13-inch (2022) - Apple M2 8-core and 10-core GPU - 8GB RAM - SSD 512GB - "
            "{layout}", "apple", "laptop", 212, Decimal("899")),
    Product("MBP14-M1P-16-512", "MacBook Pro 14-inch (2021) - Apple M1 Pro 8-core and 14-core GPU - 16GB RAM - "
            "SSD 512GB - {layout}", "apple", "laptop", 163, Decimal("1249")),
)  # fmt: skip

# ProductCondition (reference §5.3): 9 premium, 10 excellent, 11 good, 12 fair.
CONDITIONS = {9: ("PREM", Decimal("1.10")), 10: ("EXC", Decimal("1")), 11: ("GOOD", Decimal("0.92")),
              12: ("FAIR", Decimal("0.85"))}  # fmt: skip
CONDITION_WEIGHTS = {9: 1, 10: 5, 11: 4, 12: 2}

TRACKING = {  # shipper -> (tracking number pattern, tracking url prefix); '#' digit, '@' letter
    "Royal Mail": ("@@#########GB", "https://www.royalmail.com/track-your-item#/tracking-results/"),
    "Royal Mail Express": ("@@#########GB", "https://www.royalmail.com/track-your-item#/tracking-results/"),
    "DPD UK": ("15#############", "https://track.dpd.co.uk/parcels/"),
    "DHL Express": ("##########", "https://www.dhl.com/global-en/home/tracking.html?tracking-id="),
    "DHL": ("00340434#########", "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode="),
    "Colissimo": ("6A###########", "https://www.laposte.fr/outils/suivre-vos-envois?code="),
    "Chronopost": ("XW#########FR", "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT="),
    "UPS Ground": ("1Z@@@###########", "https://www.ups.com/track?tracknum="),
    "UPS Express": ("1Z@@@###########", "https://www.ups.com/track?tracknum="),
    "Correos": ("PQ###########", "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking="),
}


# Every market of the reference (§1.1) and its currency; the order generator's MARKETS are a subset.
MARKET_CURRENCIES = {
    "fr-fr": "EUR", "fr-be": "EUR", "es-es": "EUR", "de-de": "EUR", "de-at": "EUR", "it-it": "EUR", "en-gb": "GBP",
    "nl-nl": "EUR", "pt-pt": "EUR", "en-ie": "EUR", "el-gr": "EUR", "sk-sk": "EUR", "sv-se": "SEK",
    "en-us": "USD", "ja-jp": "JPY", "en-au": "AUD",
}  # fmt: skip
# Listing grade (§5.3) -> the deprecated numeric ``state`` it pairs with.
GRADE_STATES = {"EXCELLENT": 0, "VERY_GOOD": 1, "GOOD": 2, "FAIR": 3, "STALLONE": 4, "PREMIUM": 9}
STATE_GRADES = {state: grade for grade, state in GRADE_STATES.items()}
# Orderline condition (9 premium, 10 excellent, 11 good, 12 fair) <-> listing grade. The storefront's "Excellent"
# is the API's VERY_GOOD (reference §5.3), so condition 10 sells VERY_GOOD listings.
CONDITION_GRADES = {9: "PREMIUM", 10: "VERY_GOOD", 11: "GOOD", 12: "FAIR"}
GRADE_CONDITIONS = {"PREMIUM": 9, "EXCELLENT": 10, "VERY_GOOD": 10, "GOOD": 11, "FAIR": 12, "STALLONE": 12}
# A laptop listing's SKU carries its keyboard layout; the market that layout is sold in first.
LAYOUT_MARKETS = {"AZERTY": "fr-fr", "QWERTZ": "de-de", "QWERTY": "en-gb", "JIS": "ja-jp"}
_PRODUCT_NAMESPACE = uuid.UUID("6b1f3f3e-2a47-4c39-9d0e-3b6d5c1a7e21")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_valid_imei(value: object) -> bool:
    """15 ASCII digits with a valid Luhn check digit."""
    return isinstance(value, str) and len(value) == 15 and value.isascii() and value.isdigit() and luhn_ok(value)


def imei_with_check_digit(first14: str) -> str:
    for check in "0123456789":
        if luhn_ok(first14 + check):
            return first14 + check
    raise AssertionError("unreachable")


def sku_for(product: Product, condition: int, market: Market) -> str:
    suffix = CONDITIONS[condition][0]
    if product.category == "laptop":
        layout = market.layout.split(" - ")[0]
        return f"{product.stem}-{layout}-{suffix}"
    return f"{product.stem}-{suffix}"


def listing_id_for(sku: str) -> int:
    return 1_000_000 + zlib.crc32(sku.encode()) % 9_000_000


def product_uuid(product: Product) -> str:
    """The product's UUID (``product_id`` of a listing), stable across seeds: derived from its backmarket_id."""
    return str(uuid.uuid5(_PRODUCT_NAMESPACE, f"backmarket-product:{product.product_id}"))


def market_of(code: str) -> Market | None:
    return MARKETS.get(code)


def country_of(code: str) -> str:
    """The Backbox ``market`` of an Accept-Language code: ``fr-fr`` -> ``FR``, ``en-gb`` -> ``GB``."""
    return code.rsplit("-", 1)[-1].upper()


def round_price(value: Decimal, currency: str) -> Decimal:
    if currency == "JPY":
        return (value / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 100
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def convert(price: Decimal, from_market: str, to_market: str) -> Decimal:
    """A price in ``from_market``'s currency as it would be in ``to_market`` (rates of MARKETS; others count 1)."""
    source, target = MARKETS.get(from_market), MARKETS.get(to_market)
    rate = (target.rate if target else Decimal("1")) / (source.rate if source else Decimal("1"))
    return round_price(price * rate, MARKET_CURRENCIES.get(to_market, "EUR"))


def offer_price(product: Product, condition: int, market: str) -> Decimal:
    """What a listing of ``product`` in ``condition`` asks in ``market`` (the order generator's unit price)."""
    mkt = MARKETS[market]
    return round_price((product.base_eur * CONDITIONS[condition][1] * mkt.rate).quantize(Decimal("1")), mkt.currency)


@dataclass(frozen=True)
class Offer:
    """One listable thing: a product in a condition (and, for laptops, a keyboard layout)."""

    product: Product
    condition: int
    layout_market: str  # the market whose keyboard layout a laptop has; fr-fr for smartphones

    @property
    def sku(self) -> str:
        return sku_for(self.product, self.condition, MARKETS[self.layout_market])

    @property
    def title(self) -> str:
        return self.product.title.format(layout=MARKETS[self.layout_market].layout)

    @property
    def grade(self) -> str:
        return CONDITION_GRADES[self.condition]


def offers(conditions: tuple[int, ...] = (10, 11, 12)) -> list[Offer]:
    """Every (product, condition, layout) the generators know, in a stable order."""
    out = []
    for product in PRODUCTS:
        layouts = LAYOUT_MARKETS.values() if product.category == "laptop" else ("fr-fr",)
        out += [Offer(product, condition, market) for market in layouts for condition in conditions]
    return out


class ListingGenerator:
    """Seeded listing factory (its own random stream, so orders stay as they were without listings).

    A listing record is the §5.2 object without the per-market fields, plus ``markets``: ``{code: {price,
    currency, min_price, max_price, comment}}`` (the first market is the listing's home, always ``fr-fr`` here)
    and ``offline_by_seller`` (a ``pub_state: 3`` was sent). :meth:`batch` also proposes a rival seller's price.
    """

    def __init__(self, seed: int | None = 1):
        self.rng = random.Random(None if seed is None else f"listings:{seed}")  # noqa: S311 - test data

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def record(self, offer: Offer) -> dict:
        rng = self.rng
        quantity = rng.choices((0, rng.randint(1, 3), rng.randint(4, 15)), weights=(10, 30, 60))[0]
        home = "fr-fr"
        extra = [
            m
            for m in MARKETS
            if m != home
            and (offer.product.category != "laptop" or MARKETS[m].layout == MARKETS[offer.layout_market].layout)
        ]
        markets = [home, *rng.sample(extra, k=min(len(extra), rng.randint(0, 3)))]  # fmt: skip
        comment = rng.choice(("", "", "Battery health 85% or more", "Ships in original-style packaging",
                              "Charger and cable included"))  # fmt: skip
        per_market = {}
        for code in markets:
            price = offer_price(offer.product, offer.condition, code)
            floor = round_price(price * Decimal("0.9"), MARKETS[code].currency) if rng.random() < 0.5 else None
            per_market[code] = {
                "price": money(price),
                "currency": MARKETS[code].currency,
                "min_price": money(floor) if floor is not None else None,
                "max_price": int(price * 2),  # a number, as live payloads have it
                "comment": comment,
            }
        grade = offer.grade
        return {
            "id": self.uuid(),
            "listing_id": listing_id_for(offer.sku),
            "product_id": product_uuid(offer.product),
            "backmarket_id": offer.product.product_id,
            "sku": offer.sku,
            "title": offer.title,
            "quantity": quantity,
            "state": GRADE_STATES[grade],
            "grade": grade,
            "publication_state": 2 if quantity > 0 else 3,
            "warranty_delay": rng.choice((12, 12, 12, 24)),
            "shippings": [],
            "new_battery": False,
            "markets": per_market,
            "offline_by_seller": False,
        }

    def batch(self, count: int, *, taken: set[str]) -> list[tuple[dict, Decimal | None]]:
        """``count`` new listings whose SKUs (lower-cased) are not in ``taken``, each with a rival's fr-fr price
        (None: nobody else sells it). Past the known offers, SKUs get a ``-2``, ``-3``... suffix."""
        pool = offers()
        self.rng.shuffle(pool)
        out: list[tuple[dict, Decimal | None]] = []
        round_ = 1
        while len(out) < count:
            for offer in pool:
                if len(out) >= count:
                    break
                record = self.record(offer)
                if round_ > 1:
                    record["sku"] = f"{record['sku']}-{round_}"
                    record["listing_id"] = listing_id_for(record["sku"])
                if record["sku"].lower() in taken:
                    continue
                taken.add(record["sku"].lower())
                price = Decimal(record["markets"]["fr-fr"]["price"])
                rival = None
                if self.rng.random() < 0.6:
                    rival = round_price(price * Decimal(str(self.rng.uniform(0.93, 1.06))), "EUR")
                out.append((record, rival))
            round_ += 1
        return out


# Timestamp formats seen live: Z, +00:00, +01:00, with and without microseconds.
UTC_STYLES = ("Z", "+00:00", "micro-Z", "micro+00:00")
ALL_STYLES = (*UTC_STYLES, "+01:00")


def format_ts(moment: datetime, style: str) -> str:
    moment = moment.astimezone(UTC)
    if style == "+01:00":
        return moment.astimezone(timezone(timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if style.startswith("micro"):
        base += f".{moment.microsecond or 1:06d}"
    return base + ("Z" if style.endswith("Z") else "+00:00")


def parse_ts(value: str) -> datetime:
    """RFC 3339 / ISO 8601 (``Z``, offsets, fractions, ``YYYY-MM-DD HH:MM:SS``, a bare date); naive means UTC."""
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00"
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class OrderGenerator:
    """Seeded order factory. Not thread-safe on its own: the sandbox calls it under its lock."""

    def __init__(self, seed: int | None = 1, *, first_order_id: int = 40_000_000, first_line_id: int = 70_000_000):
        self.rng = random.Random(seed)  # noqa: S311 - test data, not security
        self.next_order_id = first_order_id
        self.next_line_id = first_line_id

    # ---- ids and small values -------------------------------------------------------------------------------
    def new_order_id(self) -> int:
        self.next_order_id += self.rng.randint(3, 97)
        return self.next_order_id

    def new_line_id(self) -> int:
        self.next_line_id += self.rng.randint(1, 40)
        return self.next_line_id

    def pattern(self, pattern: str) -> str:
        out = []
        for ch in pattern:
            if ch == "#":
                out.append(str(self.rng.randint(0, 9)))
            elif ch == "@":
                out.append(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
            else:
                out.append(ch)
        return "".join(out)

    def imei(self, product: Product | None = None) -> str:
        tac = product.tac if product and product.tac else "35" + self.pattern("######")
        return imei_with_check_digit(tac + self.pattern("######"))

    def serial(self, product: Product | None = None) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        if product and product.brand == "samsung":
            return "R58" + "".join(self.rng.choice(alphabet) for _ in range(8))
        return "C02" + "".join(self.rng.choice(alphabet) for _ in range(9))

    def tracking(self, shipper: str) -> tuple[str, str]:
        pattern, url = TRACKING.get(shipper, ("@@#########@@", ""))
        number = self.pattern(pattern)
        return number, (url + number if url else "")

    def ts(self, moment: datetime, *, utc_only: bool = False) -> str:
        return format_ts(moment, self.rng.choice(UTC_STYLES if utc_only else ALL_STYLES))

    def _weighted(self, weights: dict):
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    # ---- building blocks ------------------------------------------------------------------------------------
    def address(self, market: Market, person: Person, *, billing: bool = False) -> dict:
        kana = person.kana
        return {
            "company": "Kowalczyk Consulting Ltd" if billing and person.tag == "polish" and market.code == "en-gb"
            else "",
            "first_name": person.first_name,
            "last_name": person.last_name,
            "first_name_pronunciation": kana[0] if kana else None,
            "last_name_pronunciation": kana[1] if kana else None,
            "street": person.street,
            "street2": person.street2,
            "postal_code": person.postal_code,
            "city": person.city,
            "country": market.country,
            "phone": None if billing and self.rng.random() < 0.3 else self.pattern(market.phone),
            "email": f"{person.email_local}@{market.email_domain}",
            "customer_id_number": "",
        }  # fmt: skip

    def line(self, *, market: Market, product: Product | None = None, condition: int | None = None,
             quantity: int = 1, created: str, shipper: str, express: bool, line_state: int = 1) -> dict:  # fmt: skip
        product = product or self.rng.choice(PRODUCTS)
        condition = condition if condition is not None else self._weighted(CONDITION_WEIGHTS)
        sku = sku_for(product, condition, market)
        unit = product.base_eur * CONDITIONS[condition][1] * market.rate
        if market.currency == "JPY":
            unit = (unit / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 100
        else:
            unit = unit.quantize(Decimal("1")) - self.rng.choice((Decimal("0"), Decimal("0.01"), Decimal("0.10")))
        total = unit * quantity
        shipping = Decimal("0") if not express else (Decimal("1500") if market.currency == "JPY" else Decimal("9.99"))
        return {
            "id": self.new_line_id(),
            "state": line_state,
            "date_creation": created,
            "listing": sku,
            "listing_id": listing_id_for(sku),
            "product": product.title.format(layout=market.layout),
            "product_id": product.product_id,
            "brand": product.brand,
            "quantity": quantity,
            "price": money(total),  # LINE TOTAL (live behaviour, reference §2.6 price note)
            "shipping_price": money(shipping),
            "shipping_delay": 24 if express else 48,
            "shipper": shipper,
            "currency": market.currency,
            "condition": condition,
            "orderline_fee": money(total * Decimal("0.10")),
            "sales_taxes": money(total * market.sales_tax),
            "backcare": False,
            "backcare_price": 0,
            "return_reason": 0,
            "return_message": "",
            "imei": "",
            "serial_number": "",
        }

    def order(
        self,
        *,
        now: datetime,
        market: str | None = None,
        person: Person | None = None,
        state: int = 1,
        n_lines: int | None = None,
        products: list[Product] | None = None,
        quantity2: bool = False,
        no_shipping_address: bool = False,
        created_at: datetime | None = None,
    ) -> dict:
        """One order in ``state`` (0, 1, 3, 8, 9 or 10); lines get the matching orderline state."""
        mkt = MARKETS[market or self._weighted(MARKET_WEIGHTS)]
        person = person or self.rng.choice(PEOPLE[mkt.code])
        if n_lines is None:
            n_lines = len(products) if products else self.rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        live = created_at is None
        created_at = created_at or now - timedelta(seconds=self.rng.uniform(60, 900))
        order_id = self.new_order_id()
        shipper = self.rng.choice(mkt.shippers)
        express = "express" in shipper.lower()
        created = self.ts(created_at)
        line_state = LINE_STATE_FOR_ORDER_STATE[state]
        chosen = list(products or [])
        while len(chosen) < n_lines:
            candidate = self.rng.choice(PRODUCTS)
            if candidate not in chosen:
                chosen.append(candidate)
        lines = []
        for i, product in enumerate(chosen[:n_lines]):
            qty = 2 if (quantity2 and i == 0) or (not quantity2 and self.rng.random() < 0.04) else 1
            lines.append(self.line(market=mkt, product=product, quantity=qty, created=created, shipper=shipper,
                                   express=express, line_state=line_state))  # fmt: skip
        paid = state in (1, 3, 9)
        payment = self.rng.choice(("CARD",) * 6 + ("APPLE_PAY", "APPLE_PAY", "PAYPAL", "PAYPAL", "GOOGLE_PAY")
                                  + mkt.payments)  # fmt: skip
        # a live order has just become visible (modified now); a historic one was modified soon after creation
        modified_at = now if live else min(now, created_at + timedelta(seconds=self.rng.uniform(60, 1800)))
        order = {
            "order_id": order_id,
            "state": state,
            "country_code": mkt.code,
            "currency": mkt.currency,
            "price": "0.00",
            "shipping_price": "0.00",
            "sales_taxes": "0.00",
            "date_creation": created,
            "date_modification": self.ts(modified_at),
            "date_payment": self.ts(created_at + timedelta(seconds=self.rng.uniform(20, 600))) if paid else None,
            "date_shipping": None,
            "date_bill_provided": None,
            "expected_dispatch_date": (created_at + timedelta(days=2)).strftime("%Y-%m-%dT00:00:00"),
            "shipping_address": None if no_shipping_address else self.address(mkt, person),
            "billing_address": self.address(mkt, person, billing=True),
            "delivery_note": f"/_sandbox/delivery-notes/{order_id}.pdf",  # made absolute when served
            "tracking_number": "",
            "tracking_url": "",
            "shipper": shipper,
            "shipper_display": shipper,
            "is_backship": False,
            "payment_method": payment,
            "installment_payment": payment in INSTALMENT_METHODS,
            "paypal_reference": ("PAYID-" + self.pattern("@@@@###@@#@@@@@@##")) if payment == "PAYPAL" else None,
            "psp_reference": None if payment == "PAYPAL" else self.pattern("@@##@@#@@##@@@##"),
            "delivery_mode": "COLLECTION_POINT" if mkt.code == "fr-fr" and self.rng.random() < 0.2
            else "HOME_DELIVERY",
            "orderlines": lines,
        }  # fmt: skip
        if state == 9:
            self.mark_shipped(order, lines, now=modified_at)
        recompute_totals(order)
        return order

    def mark_shipped(self, order: dict, lines: list[dict], *, now: datetime) -> None:
        number, url = self.tracking(order["shipper"])
        order.update(tracking_number=number, tracking_url=url, expected_dispatch_date=None,
                     date_shipping=self.ts(now, utc_only=True))  # fmt: skip
        single = len(lines) == 1 and lines[0]["quantity"] == 1
        for line in lines:
            product = next((p for p in PRODUCTS if line["listing"].startswith(p.stem)), None)
            if single and product and product.category == "smartphone":
                line["imei"] = self.imei(product)
            elif single:
                line["serial_number"] = self.serial(product)

    def batch(self, count: int, *, now: datetime, historic: bool = True) -> list[dict]:
        """``count`` orders, oldest first. ``historic``: created over the last three days (ids grow with creation
        time); otherwise they just arrived (created minutes ago, modified now).

        A batch of 10 or more always holds: a Japanese, a Greek, a Cyrillic, a Polish and a German-umlaut customer,
        a multi-line order, a quantity-2 line, a MacBook, exactly one state-1 order without a shipping address
        (``shipping_address: null``), one order in state 0 and one in 8 (hidden from the list), at least one in
        state 10 (awaiting payment), one in 3 (accepted) and one in 9 (shipped); everything else is in state 1.
        """
        if count <= 0:
            return []
        specs: list[dict] = [{} for _ in range(count)]
        if count >= 10:
            people = {p.tag: p for plist in PEOPLE.values() for p in plist if p.tag}
            by_stem = {p.stem: p for p in PRODUCTS}
            specs[:6] = [
                {"market": "ja-jp", "person": people["japanese"], "products": [by_stem["IPH13-128-MID"]]},
                {"market": "el-gr", "person": people["greek"], "products": [by_stem["GS22-128-BLK"]]},
                {"market": "de-de", "person": people["cyrillic"],
                 "products": [by_stem["PIX7-128-OBS"], by_stem["IPHSE22-64-STA"]]},
                {"market": "en-gb", "person": people["polish"], "products": [by_stem["IPH12-64-BLU"]],
                 "quantity2": True},
                {"market": "de-de", "person": people["umlaut"], "products": [by_stem["MBA13-M1-8-256"]]},
                {"market": "fr-fr", "no_shipping_address": True, "products": [by_stem["GA54-128-GRA"]]},
            ]  # fmt: skip
            special = [0, 8, *([10] * max(1, count // 10)), 3, 9]
            plain = list(range(6, count))
            self.rng.shuffle(plain)
            showcase = [0, 1, 2, 3, 4]  # not the one without an address: it stays actionable (state 1)
            self.rng.shuffle(showcase)
            for state, index in zip(special, plain + showcase, strict=False):
                specs[index]["state"] = state
        else:
            for spec in specs:
                spec["state"] = 10 if self.rng.random() < 0.1 else 1
        self.rng.shuffle(specs)
        start = now - timedelta(hours=72)
        moments = sorted(start + timedelta(seconds=self.rng.uniform(0, 72 * 3600 - 1800)) for _ in specs)
        if not historic:
            return [self.order(now=now, **spec) for spec in specs]
        return [self.order(now=now, created_at=at, **spec) for spec, at in zip(specs, moments, strict=True)]


def recompute_totals(order: dict) -> None:
    lines = order.get("orderlines")
    if not isinstance(lines, list):
        return
    try:
        order["price"] = money(sum((Decimal(str(li["price"])) for li in lines), Decimal("0")))
        order["shipping_price"] = money(sum((Decimal(str(li["shipping_price"])) for li in lines), Decimal("0")))
        order["sales_taxes"] = money(sum((Decimal(str(li["sales_taxes"])) for li in lines), Decimal("0")))
    except (KeyError, ArithmeticError, TypeError):
        pass


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` (Latin-1 only; anything else becomes '?')."""

    def esc(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 11 Tf 50 790 Td 14 TL " + " ".join(f"({esc(t)}) '" for t in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{off:010d} 00000 n \n" for off in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
