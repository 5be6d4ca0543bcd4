"""The carrier and service catalogue, with tracking pages; channels map these codes to their own names.

Carriers marked ``self_labelled`` are ones the app labels itself (own fleet, pre-paid, "Other"): it
can generate their tracking numbers and draw their labels. The others need a carrier account that
is not connected here (ShipStation-style label buying comes later).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from stdnum import luhn


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    name: str
    domestic: bool = True
    international: bool = False


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    name: str
    services: tuple[Service, ...]
    tracking_url: str = ""  # "{}" is replaced by the tracking number
    self_labelled: bool = False

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)


def _s(code: str, name: str, domestic: bool = True, international: bool = False) -> Service:
    return Service(code, name, domestic, international)


CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        "usps",
        "USPS",
        (
            _s("usps_first_class_mail", "USPS First Class Mail"),
            _s("usps_priority_mail", "USPS Priority Mail"),
            _s("usps_priority_mail_express", "USPS Priority Mail Express"),
            _s("usps_ground_advantage", "USPS Ground Advantage"),
            _s("usps_priority_mail_international", "USPS Priority Mail Intl", False, True),
        ),
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    ),
    Carrier(
        "ups",
        "UPS",
        (
            _s("ups_ground", "UPS Ground"),
            _s("ups_2nd_day_air", "UPS 2nd Day Air"),
            _s("ups_next_day_air", "UPS Next Day Air"),
            _s("ups_standard", "UPS Standard", False, True),
            _s("ups_worldwide_express", "UPS Worldwide Express", False, True),
        ),
        "https://www.ups.com/track?tracknum={}",
    ),
    Carrier(
        "fedex",
        "FedEx",
        (
            _s("fedex_ground", "FedEx Ground"),
            _s("fedex_2day", "FedEx 2Day"),
            _s("fedex_priority_overnight", "FedEx Priority Overnight"),
            _s("fedex_international_priority", "FedEx International Priority", False, True),
        ),
        "https://www.fedex.com/fedextrack/?trknbr={}",
    ),
    Carrier(
        "dhl_express",
        "DHL Express",
        (
            _s("dhl_express_worldwide", "DHL Express Worldwide", False, True),
            _s("dhl_express_domestic", "DHL Express Domestic"),
        ),
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}",
    ),
    Carrier(
        "royal_mail",
        "Royal Mail",
        (
            _s("royal_mail_tracked_24", "Royal Mail Tracked 24"),
            _s("royal_mail_tracked_48", "Royal Mail Tracked 48"),
            _s("royal_mail_special_delivery", "Royal Mail Special Delivery Guaranteed"),
            _s("royal_mail_international_tracked", "Royal Mail International Tracked", False, True),
        ),
        "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    ),
    Carrier(
        "dpd",
        "DPD",
        (_s("dpd_classic", "DPD Classic", True, True), _s("dpd_predict", "DPD Predict")),
        "https://tracking.dpd.de/status/en_US/parcel/{}",
    ),
    Carrier(
        "colissimo",
        "Colissimo",
        (
            _s("colissimo_domicile", "Colissimo Domicile"),
            _s("colissimo_expert", "Colissimo Expert", True, True),
        ),
        "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    ),
    Carrier(
        "chronopost",
        "Chronopost",
        (_s("chronopost_13", "Chrono 13"), _s("chronopost_classic", "Chrono Classic", False, True)),
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={}",
    ),
    Carrier(
        "gls",
        "GLS",
        (_s("gls_business_parcel", "GLS BusinessParcel", True, True),),
        "https://gls-group.com/EU/en/parcel-tracking?match={}",
    ),
    Carrier(
        "la_poste",
        "La Poste",
        (_s("la_poste_lettre_suivie", "Lettre suivie"),),
        "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    ),
    Carrier(
        "deutsche_post",
        "Deutsche Post",
        (
            _s("deutsche_post_warenpost", "Warenpost"),
            _s("deutsche_post_einschreiben", "Einschreiben", True, True),
        ),
        "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode={}",
    ),
    Carrier(
        "correos",
        "Correos",
        (_s("correos_paq_estandar", "Paq Estándar"), _s("correos_paq_premium", "Paq Premium")),
        "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking-number={}",
    ),
    Carrier(
        "postnl",
        "PostNL",
        (_s("postnl_standard", "PostNL Standard", True, True),),
        "https://jouw.postnl.nl/track-and-trace/{}",
    ),
    Carrier(
        "canada_post",
        "Canada Post",
        (
            _s("canada_post_regular_parcel", "Regular Parcel"),
            _s("canada_post_expedited", "Expedited Parcel"),
            _s("canada_post_xpresspost", "Xpresspost", True, True),
        ),
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
    ),
    Carrier(
        "australia_post",
        "Australia Post",
        (
            _s("australia_post_parcel_post", "Parcel Post"),
            _s("australia_post_express_post", "Express Post"),
        ),
        "https://auspost.com.au/mypost/track/details/{}",
    ),
    Carrier(
        "own_fleet", "Own fleet / local courier", (_s("own_fleet_standard", "Standard delivery"),), self_labelled=True
    ),
    Carrier("other", "Other", (_s("other", "Other", True, True),), self_labelled=True),
)
BY_CODE = {carrier.code: carrier for carrier in CARRIERS}
# Older or channel-side spellings we accept for the same carriers.
ALIASES = {"dhl": "dhl_express"}


def carrier(code: str) -> Carrier | None:
    code = (code or "").lower()
    return BY_CODE.get(ALIASES.get(code, code))


def tracking_url(carrier_code: str, tracking_number: str) -> str:
    found = carrier(carrier_code)
    number = "".join((tracking_number or "").split())
    return found.tracking_url.format(quote(number, safe="")) if found and found.tracking_url and number else ""


def generate_tracking_number(*, prefix: str, sequence: int) -> str:
    """For self-labelled shipments: PREFIX + 12 digits + a Luhn check digit (easy to scan and to check)."""
    digits = f"{sequence:012d}"
    return f"{prefix}{digits}{luhn.calc_check_digit(digits)}"
