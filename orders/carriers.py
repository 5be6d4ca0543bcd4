"""Carriers we know by code, with the public tracking page of each (issue 5 grows this into the catalogue)."""

from urllib.parse import quote

TRACKING_URLS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?tracking-id={}",
    "dhl_express": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}",
    "royal_mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "la_poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "chronopost": "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={}",
    "gls": "https://gls-group.com/EU/en/parcel-tracking?match={}",
    "deutsche_post": "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode={}",
    "correos": "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking-number={}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{}",
    "canada_post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
    "australia_post": "https://auspost.com.au/mypost/track/details/{}",
}


def tracking_url(carrier_code: str, tracking_number: str) -> str:
    template = TRACKING_URLS.get((carrier_code or "").lower())
    number = "".join((tracking_number or "").split())
    return template.format(quote(number, safe="")) if template and number else ""
