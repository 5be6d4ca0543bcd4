"""Back Market store settings: platform (region), market, API token."""

from ..base import SettingField

# Each platform, and each preprod, has its own seller account and token (reference §1.1).
REGION_HOSTS = {
    "eu": "https://www.backmarket.fr",
    "us": "https://www.backmarket.com",
    "eu_preprod": "https://preprod.backmarket.fr",
    "us_preprod": "https://preprod.backmarket.com",
}
REGION_LABELS = (
    ("eu", "Europe (backmarket.fr)"),
    ("us", "United States (backmarket.com)"),
    ("eu_preprod", "Europe, preprod sandbox"),
    ("us_preprod", "United States, preprod sandbox"),
    ("custom", "Custom base URL"),
)
DEFAULT_MARKET = {"eu": "fr-fr", "eu_preprod": "fr-fr", "us": "en-us", "us_preprod": "en-us", "custom": "fr-fr"}
MARKETS = (
    "fr-fr",
    "fr-be",
    "es-es",
    "de-de",
    "de-at",
    "it-it",
    "en-gb",
    "nl-nl",
    "pt-pt",
    "en-ie",
    "el-gr",
    "sk-sk",
    "sv-se",
    "en-us",
)

# The currency a price is in, by market (reference §5.4: required for GBP, SEK, JPY, AUD markets).
MARKET_CURRENCY = {market: "EUR" for market in MARKETS} | {"en-gb": "GBP", "sv-se": "SEK", "en-us": "USD"}
MARKET_CURRENCY |= {"ja-jp": "JPY", "en-au": "AUD"}

SETTINGS_FIELDS = (
    SettingField("region", "Region", choices=REGION_LABELS, default="eu"),
    SettingField(
        "base_url",
        "Base URL",
        required=False,
        is_url=True,
        help_text="Only for the custom region (e.g. the sandbox): https://host:port",
    ),
    SettingField(
        "market",
        "Market",
        required=False,
        choices=tuple((m, m) for m in MARKETS),
        help_text="Sent as Accept-Language; defaults to fr-fr in Europe and en-us in the United States.",
    ),
    SettingField(
        "token",
        "API token",
        secret=True,
        help_text="Back Office → Options → Integrations → Add new integration; paste the token as shown.",
    ),
)


def base_url_for(settings: dict) -> str:
    region = settings.get("region") or "eu"
    if region == "custom":
        return str(settings.get("base_url") or "").rstrip("/")
    return REGION_HOSTS[region]


def market_for(settings: dict) -> str:
    return settings.get("market") or DEFAULT_MARKET.get(settings.get("region") or "eu", "fr-fr")


def currency_for(market: str) -> str:
    return MARKET_CURRENCY.get(market.lower(), "EUR")
