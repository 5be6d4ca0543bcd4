"""Seeded order generator, XML rendering and date parsing for the ShipStation Custom Store sandbox (stdlib only).

Written from docs/reference/shipstation.md §1 (Custom Store XML v1) and the Listing Mirror help page (status names
Unpaid/Paid/Shipped/Cancelled/Hold; CustomField1 = marketplace order id, CustomField2 = channel integration,
CustomField3 = alternate marketplace order id). Orders are kept as plain dicts (snake_case keys, money as 2-dp
strings, datetimes as aware UTC ``datetime``); :func:`render_order` turns one into an ``<Order>`` element.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
STATUSES = ("Unpaid", "Paid", "Shipped", "Cancelled", "Hold")  # Listing Mirror's names, case-sensitive
CUSTOM_STATUSES = ("Pending Fulfillment", "Awaiting Pickup", "Partially Shipped", "Refund Requested")
STATUS_WEIGHTS = {"Paid": 50, "Unpaid": 10, "Shipped": 20, "Cancelled": 8, "Hold": 7}

# How OrderDate / LastModified are written. All UTC. The doc's form is "MM/dd/yyyy HH:mm" (12h or 24h allowed); the
# XSD regex is M/d/yyyy H:mm[:ss][ AM|PM]; Magento emits Y-m-d H:i:s and ShipStation takes it.
DATE_STYLES = {
    "24h": 60,  # 03/23/2012 21:09
    "12h": 15,  # 03/23/2012 09:09 PM
    "seconds": 10,  # 03/23/2012 21:09:07
    "short": 10,  # 3/23/2012 21:09 (no zero padding)
    "iso_space": 5,  # 2012-03-23 21:09:07
}
TEXT_STYLES = ("cdata", "minimal")  # cdata: every string in CDATA (WooCommerce); minimal: only where needed

# The §1.3 element table, as paths under Orders/Order (used by the tests; a "full" order carries every one).
ELEMENT_PATHS = (
    "OrderID", "OrderNumber", "OrderDate", "OrderStatus", "LastModified", "ShippingMethod", "PaymentMethod",
    "CurrencyCode", "OrderTotal", "TaxAmount", "ShippingAmount", "CustomerNotes", "InternalNotes", "Gift",
    "GiftMessage", "CustomField1", "CustomField2", "CustomField3", "RequestedWarehouse", "Source",
    "Dimensions/Length", "Dimensions/Width", "Dimensions/Height", "Dimensions/DimensionUnits",
    "Customer/CustomerCode", "Customer/BillTo/Name", "Customer/BillTo/Company", "Customer/BillTo/Phone",
    "Customer/BillTo/Email", "Customer/ShipTo/Name", "Customer/ShipTo/Company", "Customer/ShipTo/Address1",
    "Customer/ShipTo/Address2", "Customer/ShipTo/City", "Customer/ShipTo/State", "Customer/ShipTo/PostalCode",
    "Customer/ShipTo/Country", "Customer/ShipTo/Phone", "Items/Item/LineItemID", "Items/Item/SKU", "Items/Item/Name",
    "Items/Item/ImageUrl", "Items/Item/Weight", "Items/Item/WeightUnits", "Items/Item/Quantity",
    "Items/Item/UnitPrice", "Items/Item/UPC", "Items/Item/Location", "Items/Item/Adjustment",
    "Items/Item/Options/Option/Name", "Items/Item/Options/Option/Value", "Items/Item/Options/Option/Weight",
)  # fmt: skip

WEIGHT_UNIT_NAMES = {
    "lb": ("Pounds", "Pounds", "pounds", "lbs", "lb", "LBS"),
    "oz": ("Ounces", "Ounces", "ounces", "oz", "OZ"),
    "g": ("Grams", "Grams", "grams", "gm", "GM"),
}
DIMENSION_UNITS = ("in", "Inch", "Centimeter")
WAREHOUSES = ("Main Warehouse", "Main Warehouse", "Reno NV", "East Coast 3PL")
CARRIERS = (
    ("USPS", "USPS Priority Mail", "9405511899223197428490"),
    ("UPS", "UPS Ground", "1Z999AA10123456784"),
    ("FedEx", "FedEx Home Delivery", "794644790132"),
    ("DHL", "DHL Express Worldwide", "1234567890"),
)


def money(value: Decimal | int | float | str) -> str:
    return str(Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Channel:
    """A Listing Mirror channel integration (what goes to CustomField2) and its marketplace (Source)."""

    integration: str
    source: str
    currency: str
    rate: Decimal  # multiplier from the USD catalogue price
    countries: tuple[str, ...]
    shipping_methods: tuple[str, ...]
    payment_methods: tuple[str, ...]
    email_style: str  # amazon | ebay | walmart | plain
    id_style: str  # amazon | ebay | walmart | shopify | etsy | newegg
    image_style: str


CHANNELS: dict[str, Channel] = {
    c.integration: c
    for c in (
        Channel("Amazon US", "Amazon", "USD", Decimal("1"), ("US",),
                ("Std US D2D Dom", "Expedited", "Second US D2D Dom", "Next US D2D Dom"), ("Other", "Amazon Pay"),
                "amazon", "amazon", "amazon"),
        Channel("Amazon CA", "Amazon", "CAD", Decimal("1.36"), ("CA",), ("Standard", "Expedited"), ("Other",),
                "amazon", "amazon", "amazon"),
        Channel("Amazon UK", "Amazon", "GBP", Decimal("0.79"), ("GB",), ("Std UK Dom_1", "Expedited"), ("Other",),
                "amazon", "amazon", "amazon"),
        Channel("Amazon DE", "Amazon", "EUR", Decimal("0.92"), ("DE",), ("Standard", "Std DE Dom_2"), ("Other",),
                "amazon", "amazon", "amazon"),
        Channel("Amazon PL", "Amazon", "PLN", Decimal("4.00"), ("PL",), ("Standard",), ("Other",),
                "amazon", "amazon", "amazon"),
        Channel("Amazon JP", "Amazon", "JPY", Decimal("150"), ("JP",), ("Standard", "Expedited"), ("Other",),
                "amazon", "amazon", "amazon"),
        Channel("eBay", "eBay", "USD", Decimal("1"), ("US", "US", "GR", "BG", "DE"),
                ("USPS Priority Mail", "USPSFirstClass", "UPS Ground", "eBay International Shipping"),
                ("eBay Managed Payments", "PayPal"), "ebay", "ebay", "ebay"),
        Channel("Walmart", "Walmart", "USD", Decimal("1"), ("US",), ("Standard", "Value", "TwoDay"), ("Walmart",),
                "walmart", "walmart", "walmart"),
        Channel("Shopify", "Shopify", "USD", Decimal("1"), ("US", "CA", "GB"),
                ("Free Shipping", "UPS Ground", "Express (1-2 days)", "Standard International"),
                ("Shopify Payments", "PayPal Express Checkout", "Credit Card"), "plain", "shopify", "shopify"),
        Channel("Etsy", "Etsy", "USD", Decimal("1"), ("US", "DE", "GR"), ("Standard Shipping", "Priority"),
                ("Etsy Payments",), "plain", "etsy", "etsy"),
        Channel("Newegg", "Newegg", "USD", Decimal("1"), ("US",), ("Standard Shipping (5-7 business days)",),
                ("Newegg",), "plain", "newegg", "plain"),
    )
}  # fmt: skip
CHANNEL_WEIGHTS = {"Amazon US": 30, "eBay": 15, "Walmart": 12, "Shopify": 10, "Etsy": 6, "Amazon CA": 4,
                   "Amazon UK": 4, "Amazon DE": 4, "Amazon PL": 3, "Amazon JP": 3, "Newegg": 3}  # fmt: skip


@dataclass(frozen=True)
class Person:
    name: str
    address1: str
    address2: str
    city: str
    state: str
    postal_code: str
    country: str
    phone: str
    email_local: str
    tag: str = ""  # polish, german, japanese, cyrillic, greek, company


PEOPLE: tuple[Person, ...] = (
    Person("John Smith", "1600 Pennsylvania Ave NW", "", "Washington", "DC", "20500", "US", "+1 202-555-0143",
           "jsmith"),
    Person("Maria Garcia", "350 Fifth Avenue", "Apt 5B", "New York", "NY", "10118", "US", "(212) 555-0178", "mgarcia"),
    Person("Tyler O'Brien", "742 Evergreen Terrace", "", "Springfield", "OR", "97477", "US", "541-555-0199",
           "tobrien"),
    Person("Aisha Johnson", "4059 Mt Lee Dr", "Unit #12", "Hollywood", "CA", "90068", "US", "323-555-0110", "aishaj"),
    Person("Robert Chen", "233 S Wacker Dr", "Suite 4400", "Chicago", "IL", "60606", "US", "(312) 555-0155",
           "rchen"),
    Person("Smith & Sons Receiving", "88 Industrial Pkwy", "Dock 3", "Houston", "TX", "77002", "US", "713-555-0120",
           "receiving", "company"),
    Person("Наталья Смирнова", "2811 Ocean Ave", "Apt 4F", "Brooklyn", "NY", "11235", "US", "718-555-0164",
           "natalia.s", "cyrillic"),
    Person("Émilie Tremblay", "1001 Rue Sherbrooke O", "App. 707", "Montréal", "QC", "H3A 1G5", "CA", "514-555-0137",
           "emilie.t"),
    Person("Liam Walker", "290 Bremner Blvd", "", "Toronto", "ON", "M5V 3L9", "CA", "416-555-0102", "lwalker"),
    Person("Oliver Hughes", "221B Baker Street", "", "London", "", "NW1 6XE", "GB", "+44 20 7946 0958", "ohughes"),
    Person("Siobhan Ní Bhriain", "12 Castle Street", "Flat 2", "Edinburgh", "Midlothian", "EH2 3AH", "GB",
           "+44 131 496 0471", "siobhan"),
    Person("Jürgen Größmann", "Müllerstraße 12", "Hinterhaus, 3. OG", "München", "", "80469", "DE",
           "+49 89 12345678", "j.groessmann", "german"),
    Person("Björn Weiß", "Königsallee 27", "", "Düsseldorf", "NW", "40212", "DE", "+49 211 5550123", "bweiss",
           "german"),
    Person("Łukasz Wróbel", "ul. Świętokrzyska 31/33", "m. 14", "Łódź", "", "90-001", "PL", "+48 512 345 678",
           "lukasz.wrobel", "polish"),
    Person("Zofia Kowalczyk-Żak", "Plac Grzybowski 5", "", "Kraków", "małopolskie", "31-001", "PL", "+48 601 222 333",
           "zofia.kz", "polish"),
    Person("山田 太郎", "六本木6-10-1", "六本木ヒルズ森タワー 12F", "港区", "東京都", "106-6112", "JP", "090-1234-5678",
           "t.yamada", "japanese"),
    Person("佐藤 花子", "北区梅田3-1-1", "", "大阪市", "大阪府", "530-0001", "JP", "06-6345-6789", "hanako.sato",
           "japanese"),
    Person("Иван Петров", "бул. Витоша 15", "ет. 3, ап. 7", "София", "", "1000", "BG", "+359 88 123 4567",
           "ivan.petrov", "cyrillic"),
    Person("Γιώργος Παπαδόπουλος", "Λεωφόρος Βασιλίσσης Σοφίας 12", "", "Αθήνα", "", "106 74", "GR",
           "+30 694 123 4567", "g.papadopoulos", "greek"),
    Person("Ελένη Νικολάου", "Εγνατία 45", "2ος όροφος", "Θεσσαλονίκη", "", "546 30", "GR", "+30 231 012 3456",
           "eleni.n", "greek"),
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal  # USD
    weight: str
    unit: str  # lb | oz | g
    upc: str
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()
    option_weight: str = ""  # extra weight per unit of the last option's non-first values, if any


PRODUCTS: tuple[Product, ...] = (
    Product("TSHIRT-ORG-01", "Organic Cotton T-Shirt", Decimal("19.99"), "6", "oz", "850012345671",
            (("Color", ("Black", "Heather Grey", "Navy")), ("Size", ("S", "M", "L", "XL", "XXL"))), "0.5"),
    Product("CHG-65W-2C", "Anker 65W USB-C Charger <2-Port> & Cable", Decimal("35.99"), "0.35", "lb", "848061012345"),
    Product("IPH13-RNW", "Apple iPhone 13 (Renewed)", Decimal("389.00"), "0.6", "lb", "194252707456",
            (("Storage", ("128GB", "256GB", "512GB")), ("Color", ("Midnight", "Starlight", "(PRODUCT)RED")))),
    Product("MUG-CER-11", "Ceramic Coffee Mug 11 oz", Decimal("12.50"), "400", "g", "736211456789",
            (("Color", ("White", "Sage", "Terracotta")),)),
    Product("BRICKS-1500", "Classic Bricks Box (1,500 pcs)", Decimal("59.95"), "2.1", "lb", "673419323456"),
    Product("SOCK-MERINO-3", "Merino Wool Hiking Socks \u2013 3 Pack", Decimal("24.00"), "5", "oz", "091234567895",
            (("Size", ("M", "L")),)),
    Product("HDMI21-6FT", "HDMI 2.1 Cable 8K@60Hz 6ft", Decimal("13.49"), "120", "g", "810034561234"),
    Product("BK-9780141395", "Sherlock Holmes: A Study in Scarlet", Decimal("8.99"), "9.6", "oz", "978014139548"),
    Product("CASE-S23-CLR", 'Galaxy S23 Clear Case "Slim"', Decimal("11.99"), "1.2", "oz", "840123456786",
            (("Color", ("Clear", "Smoke")),)),
    Product("KNIFE-SET-5", "Chef's Knife Set 5-pc (Stainless)", Decimal("79.00"), "3.4", "lb", "702345678912",
            (("Gift Wrap", ("No", "Yes")),), "0.2"),
    Product("MATCHA-100G", "抹茶 Matcha Green Tea Powder 100g", Decimal("22.00"), "150", "g", "4901234567894"),
    Product("YARN-MER-OCN", "Merino Yarn \u00abOcean\u00bb 100g", Decimal("9.75"), "110", "g", "",
            (("Colorway", ("Ocean", "Moss", "Ember")),)),
)  # fmt: skip

CUSTOMER_NOTES = (
    "Please leave at the back door & ring twice.",
    "Gate code: #4521 <call on arrival>",
    "Bitte beim Nachbarn abgeben, falls niemand zu Hause ist.",
    "置き配希望（玄関前）",
    "Prosz\u0119 o kontakt telefoniczny przed dostaw\u0105.",
    'Deliver to "Reception" - 2nd floor',
    "Tricky note: a literal ]]> inside the text",
)
INTERNAL_NOTES = (
    "Prime order - ship by 2pm PT",
    "Address verified by phone 10/02",
    "Listing Mirror: order routed from marketplace; check stock in bin before picking",
    "Customer asked for plain packaging; no invoice in box",
    "Repeat buyer <VIP> & wholesale account",
)
GIFT_MESSAGES = ("Happy birthday, Oma! \u2764\ufe0f", "Congrats on the new job & good luck!",
                 "Wszystkiego najlepszego!", "お誕生日おめでとう！")  # fmt: skip
COUPONS = ("SPRING10", "WELCOME5", "BUNDLE & SAVE", "FREESHIP")
LOCATIONS = ("A-01-03", "A-02-11", "B-12-1", "C-07-4", "Aisle 4 / Bin 7", "Overflow <Mezzanine>")


# ------------------------------------------------------------------------------------------------ dates
def format_date(value: datetime, style: str = "24h") -> str:
    """Write a UTC timestamp the way ShipStation-compatible stores do (see DATE_STYLES)."""
    value = value.astimezone(UTC)
    if style == "12h":
        return value.strftime("%m/%d/%Y %I:%M %p")
    if style == "seconds":
        return value.strftime("%m/%d/%Y %H:%M:%S")
    if style == "short":
        return f"{value.month}/{value.day}/{value.year} {value.hour}:{value.minute:02d}"
    if style == "iso_space":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.strftime("%m/%d/%Y %H:%M")


_US_DATE = re.compile(
    r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,7})?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_ISO_DATE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,7})?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_COMPACT_DATE = re.compile(r"(?P<mo>\d{2})(?P<d>\d{2})(?P<y>\d{4})\D?(?P<h>\d{2})(?P<mi>\d{2})")  # WOO's fallback


def parse_window_date(text: str) -> tuple[datetime, timedelta]:
    """Parse an export ``start_date``/``end_date`` (UTC unless an offset is given).

    Returns the instant and its precision (1 day, 1 minute or 1 second), so that an end bound can be made inclusive
    of the whole minute (or second, or day) it names. Accepts ``MM/dd/yyyy HH:mm`` with or without zero padding,
    seconds, fractional seconds, ``AM``/``PM`` (12-hour), a ``T`` separator or several spaces, a trailing
    ``Z``/``UTC``/``GMT``/``+hh:mm``; ``yyyy-mm-dd[ HH:mm[:ss]]``; WooCommerce's compact ``MMDDYYYY?HHMM``; and a
    bare date. Raises ValueError for anything else.
    """
    text = (text or "").strip()
    match = _US_DATE.fullmatch(text) or _ISO_DATE.fullmatch(text)
    if match is None:
        compact = _COMPACT_DATE.fullmatch(text)
        if compact is None:
            raise ValueError(f"unrecognised date {text!r}")
        groups = {**compact.groupdict(), "s": None, "ampm": None, "tz": None}
    else:
        groups = {"s": None, "ampm": None, **match.groupdict()}
    year, month, day = int(groups["y"]), int(groups["mo"]), int(groups["d"])
    if groups.get("h") is None:
        precision, hour, minute, second = timedelta(days=1), 0, 0, 0
    else:
        hour, minute = int(groups["h"]), int(groups["mi"])
        second = int(groups["s"]) if groups.get("s") is not None else 0
        precision = timedelta(seconds=1) if groups.get("s") is not None else timedelta(minutes=1)
        ampm = (groups.get("ampm") or "").replace(".", "").upper()
        if ampm:
            if not 1 <= hour <= 12:
                raise ValueError(f"hour {hour} is not a 12-hour clock hour in {text!r}")
            hour = hour % 12 + (12 if ampm == "PM" else 0)
    tz = UTC
    offset = groups.get("tz")
    if offset and offset[0] in "+-":
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(delta if offset[0] == "+" else -delta)
    value = datetime(year, month, day, hour, minute, second, tzinfo=tz)  # ValueError for 13/45/2024, 25:00...
    return value.astimezone(UTC), precision


def parse_any_date(text: str | None) -> datetime | None:
    """Lenient parse of a ShipNotice date (LabelCreateDate / ShipDate); None when absent or unreadable."""
    try:
        return parse_window_date(text or "")[0] if text else None
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------ XML text
def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def needs_cdata(text: str) -> bool:
    return any(ch in text for ch in "&<>")


# Order fields that are free text: CDATA in the "minimal" style too (the doc: "wrap free text in CDATA").
FREE_TEXT = {"CustomerNotes", "InternalNotes", "GiftMessage", "Name", "Company", "Address1", "Address2", "City"}
NOT_TEXT = {"OrderDate", "LastModified", "OrderTotal", "TaxAmount", "ShippingAmount", "Gift", "Length", "Width",
            "Height", "Weight", "Quantity", "UnitPrice", "Adjustment", "CostOfGoods"}  # fmt: skip


class _Writer:
    def __init__(self, text_style: str, indent: str = "  "):
        self.parts: list[str] = []
        self.text_style = text_style
        self.indent = indent

    def leaf(self, depth: int, name: str, value: object, *, raw: bool = False) -> None:
        if value is None:
            return
        pad = self.indent * depth
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if raw:
            body = text
        elif name in NOT_TEXT:
            body = escape(text)
        elif self.text_style == "cdata" or name in FREE_TEXT or needs_cdata(text):
            body = cdata(text)
        else:
            body = escape(text)
        self.parts.append(f"{pad}<{name}>{body}</{name}>" if body else f"{pad}<{name}/>")

    def open(self, depth: int, name: str) -> None:
        self.parts.append(f"{self.indent * depth}<{name}>")

    def close(self, depth: int, name: str) -> None:
        self.parts.append(f"{self.indent * depth}</{name}>")


def render_order(order: dict, *, depth: int = 1, raw: dict[str, str] | None = None) -> str:
    """One ``<Order>`` element (indented, newline-separated). ``raw`` replaces the content of top-level leaf
    elements verbatim (used by the xml_bomb fault to plant an entity reference)."""
    raw = raw or {}
    w = _Writer(order.get("text_style", "minimal"))
    style = order.get("date_style", "24h")
    d = depth + 1
    w.open(depth, "Order")

    def top(name: str, value: object) -> None:
        if name in raw:
            w.leaf(d, name, raw[name], raw=True)
        else:
            w.leaf(d, name, value)

    top("OrderID", order.get("order_id"))
    top("OrderNumber", order.get("order_number"))
    top("OrderDate", format_date(order["order_date"], style) if order.get("order_date") else None)
    top("OrderStatus", order.get("status"))
    top("LastModified", format_date(order["last_modified"], style) if order.get("last_modified") else None)
    for name, key in (("ShippingMethod", "shipping_method"), ("PaymentMethod", "payment_method"),
                      ("CurrencyCode", "currency_code"), ("OrderTotal", "order_total"), ("TaxAmount", "tax_amount"),
                      ("ShippingAmount", "shipping_amount"), ("CustomerNotes", "customer_notes"),
                      ("InternalNotes", "internal_notes"), ("Gift", "gift"), ("GiftMessage", "gift_message"),
                      ("CustomField1", "custom_field1"), ("CustomField2", "custom_field2"),
                      ("CustomField3", "custom_field3"), ("RequestedWarehouse", "requested_warehouse"),
                      ("Source", "source")):  # fmt: skip
        top(name, order.get(key))
    for name, value in (order.get("extra") or {}).items():  # elements outside the spec, e.g. StoreCode
        top(name, value)
    dims = order.get("dimensions")
    if dims:
        w.open(d, "Dimensions")
        for name, key in (("Length", "length"), ("Width", "width"), ("Height", "height"),
                          ("DimensionUnits", "units")):  # fmt: skip
            w.leaf(d + 1, name, dims.get(key))
        w.close(d, "Dimensions")

    w.open(d, "Customer")
    w.leaf(d + 1, "CustomerCode", order.get("customer_code"))
    bill = order.get("bill_to") or {}
    w.open(d + 1, "BillTo")
    for name in ("Name", "Company", "Phone", "Email"):
        w.leaf(d + 2, name, bill.get(name.lower()))
    w.close(d + 1, "BillTo")
    ship = order.get("ship_to")
    if ship == "empty":
        w.parts.append(f"{w.indent * (d + 1)}<ShipTo/>")
    elif isinstance(ship, dict):
        w.open(d + 1, "ShipTo")
        for name, key in (("Name", "name"), ("Company", "company"), ("Address1", "address1"),
                          ("Address2", "address2"), ("City", "city"), ("State", "state"),
                          ("PostalCode", "postal_code"), ("Country", "country"), ("Phone", "phone")):  # fmt: skip
            w.leaf(d + 2, name, ship.get(key))
        w.close(d + 1, "ShipTo")
    w.close(d, "Customer")

    w.open(d, "Items")
    export_ids = order.get("export_line_item_ids", True)
    for item in order.get("items") or []:
        i = d + 2
        w.open(d + 1, "Item")
        if export_ids:
            w.leaf(i, "LineItemID", item.get("line_item_id"))
        w.leaf(i, "SKU", item.get("sku"))
        w.leaf(i, "Name", item.get("name"))
        w.leaf(i, "ImageUrl", item.get("image_url"))
        w.leaf(i, "Weight", item.get("weight"))
        w.leaf(i, "WeightUnits", item.get("weight_units"))
        w.leaf(i, "Quantity", item.get("quantity"))
        w.leaf(i, "UnitPrice", item.get("unit_price"))
        w.leaf(i, "UPC", item.get("upc"))
        w.leaf(i, "Location", item.get("location"))
        w.leaf(i, "Adjustment", item.get("adjustment_element"))
        w.leaf(i, "CostOfGoods", item.get("cost_of_goods"))
        options = item.get("options")
        if options:
            w.open(i, "Options")
            for option in options:
                w.open(i + 1, "Option")
                w.leaf(i + 2, "Name", option.get("name"))
                w.leaf(i + 2, "Value", option.get("value"))
                w.leaf(i + 2, "Weight", option.get("weight"))
                w.close(i + 1, "Option")
            w.close(i, "Options")
        w.close(d + 1, "Item")
    w.close(d, "Items")
    w.close(depth, "Order")
    return "\n".join(w.parts)


def render_page(orders: list[dict], pages: int, *, dtd: str = "", raw: dict[str, str] | None = None,
                root_text: str = "") -> str:  # fmt: skip
    """A whole export response: declaration, optional DTD, ``<Orders pages="N">``."""
    head = '<?xml version="1.0" encoding="utf-8"?>\n' + (dtd + "\n" if dtd else "")
    if not orders and not root_text:
        return head + f'<Orders pages="{pages}"/>\n'
    body = [render_order(o, raw=raw if n == 0 else None) for n, o in enumerate(orders)]
    inner = ("\n".join(body) + "\n") if body else ""
    return head + f'<Orders pages="{pages}">' + root_text + "\n" + inner + "</Orders>\n"


# ------------------------------------------------------------------------------------------------ generator
class OrderGenerator:
    """Deterministic (per seed) Listing Mirror orders."""

    def __init__(self, seed: int | None = 1):
        self.rng = random.Random(seed)  # noqa: S311 - test data, not security
        self._next_id = 4_810_000 + self.rng.randrange(1000, 9000) * 10
        self._next_number = 100_000 + self.rng.randrange(100, 900) * 10
        self._next_line = 9_000_000 + self.rng.randrange(10_000, 90_000)

    # ---- small pieces
    def _pick_weighted(self, weights: dict[str, int]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def marketplace_ids(self, channel: Channel, country: str) -> tuple[str, str]:
        """(CustomField1 = marketplace order id, CustomField3 = alternate marketplace order id)."""
        style = channel.id_style
        if style == "amazon":
            prefix = {"JP": "503", "DE": "302", "GB": "203", "PL": "407", "CA": "702"}.get(country, "113")
            return f"{prefix}-{self._digits(7)}-{self._digits(7)}", ""
        if style == "ebay":
            return f"{self._digits(2)}-{self._digits(5)}-{self._digits(5)}", f"{self._digits(12)}-{self._digits(13)}"
        if style == "walmart":
            return self._digits(13), self._digits(13)
        if style == "shopify":
            return f"#{self.rng.randrange(1001, 9999)}", "5" + self._digits(12)
        if style == "etsy":
            return self._digits(10), ""
        return self._digits(9), ""

    def email(self, channel: Channel, person: Person) -> str:
        if channel.email_style == "amazon":
            return f"{self._digits(4)}{self.rng.choice('abcdefghjk')}{self._digits(6)}@marketplace.amazon.com"
        if channel.email_style == "ebay":
            return f"{person.email_local.split('.')[0]}{self._digits(3)}@members.ebay.com"
        if channel.email_style == "walmart":
            return f"{self._digits(24)}@relay.walmart.com"
        return f"{person.email_local}@example.com"

    def image_url(self, channel: Channel, product: Product) -> str:
        style = channel.image_style
        if style == "amazon":
            code = "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
            return f"https://m.media-amazon.com/images/I/71{code}._AC_SL500_.jpg"
        if style == "ebay":
            code = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789") for _ in range(16))
            return f"https://i.ebayimg.com/images/g/{code}/s-l500.jpg"
        if style == "walmart":
            return (
                f"https://i5.walmartimages.com/asr/{self._digits(8)}-{self._digits(4)}.jpeg?odnHeight=450&odnWidth=450"
            )
        if style == "shopify":
            return f"https://cdn.shopify.com/s/files/1/0612/3456/products/{product.sku}.jpg?v=17{self._digits(8)}&width=500"
        return f"https://images.listingmirror.example/p/{product.sku.lower()}.jpg"

    def person(self, country: str | None = None, tag: str | None = None) -> Person:
        pool = [p for p in PEOPLE if (country is None or p.country == country) and (tag is None or p.tag == tag)]
        return self.rng.choice(pool or PEOPLE)

    def item(self, channel: Channel, product: Product | None = None, *, quantity: int | None = None,
             with_options: bool | None = None, full: bool = False) -> dict:  # fmt: skip
        rng = self.rng
        product = product or rng.choice(PRODUCTS)
        if full and not (product.options and product.upc):
            product = PRODUCTS[0]
        self._next_line += rng.randrange(1, 40)
        unit_price = product.price * channel.rate
        unit_price = unit_price.quantize(Decimal("1")) if channel.currency == "JPY" else unit_price
        if quantity is None:
            quantity = rng.choices((1, 2, 3, 10), weights=(75, 15, 7, 3))[0]
        options: list[dict] = []
        if product.options and (with_options if with_options is not None else rng.random() < 0.85):
            for n, (name, values) in enumerate(product.options):
                value = rng.choice(values)
                extra = ""
                if product.option_weight and n == len(product.options) - 1:
                    extra = product.option_weight if value != values[0] else "0"
                elif full or rng.random() < 0.3:
                    extra = "0"
                options.append({"name": name, "value": value, "weight": extra or None})
        weight = product.weight if full or rng.random() < 0.95 else None
        return {
            "line_item_id": str(self._next_line),
            "sku": product.sku,
            "name": product.name,
            "image_url": self.image_url(channel, product) if full or rng.random() < 0.9 else None,
            "weight": weight,
            "weight_units": rng.choice(WEIGHT_UNIT_NAMES[product.unit]) if weight else None,
            "quantity": quantity,
            "unit_price": money(unit_price),
            "upc": (product.upc or None) if full or rng.random() < 0.7 else None,
            "location": rng.choice(LOCATIONS) if full or rng.random() < 0.6 else None,
            "adjustment": False,
            "adjustment_element": False if full or rng.random() < 0.3 else None,  # explicit <Adjustment>false
            "cost_of_goods": money(unit_price * Decimal("0.45")) if full or rng.random() < 0.2 else None,
            "options": options,
            "shipped_quantity": 0,
        }

    def adjustment(self, channel: Channel, subtotal: Decimal) -> dict:
        code = self.rng.choice(COUPONS)
        amount = max(
            Decimal("1"), (subtotal * Decimal("0.10")).quantize(Decimal("1") if channel.currency == "JPY" else CENT)
        )
        self._next_line += 1
        return {
            "line_item_id": str(self._next_line), "sku": self.rng.choice(("", "", "DISCOUNT")),
            "name": f"Coupon: {code}", "image_url": None, "weight": None, "weight_units": None, "quantity": 1,
            "unit_price": money(-amount), "upc": None, "location": None, "adjustment": True,
            "adjustment_element": True, "cost_of_goods": None, "options": [], "shipped_quantity": 0,
        }  # fmt: skip

    # ---- a whole order
    def order(self, *, now: datetime, status: str | None = None, channel: str | None = None,
              country: str | None = None, tag: str | None = None, n_items: int | None = None,
              ship_to: bool | str = True, full: bool = False, historic: bool = False) -> dict:  # fmt: skip
        rng = self.rng
        if channel is None and tag is None and country is None:
            channel = self._pick_weighted(CHANNEL_WEIGHTS)
        if channel is not None:
            chan = CHANNELS[channel]
            person = self.person(country or rng.choice(chan.countries), tag)
        else:
            person = self.person(country, tag)
            serving = {k: w for k, w in CHANNEL_WEIGHTS.items() if person.country in CHANNELS[k].countries}
            chan = CHANNELS[self._pick_weighted(serving or {"eBay": 1})]
        bill_person = person if rng.random() < 0.8 else self.person(person.country)
        status = status or self._pick_weighted(STATUS_WEIGHTS)
        self._next_id += rng.randrange(1, 25)
        self._next_number += 1
        if historic:
            order_date = now - timedelta(minutes=rng.randrange(60, 3 * 24 * 60))
            last_modified = order_date + (now - order_date) * rng.random()
        else:
            order_date = now - timedelta(seconds=rng.randrange(0, 300))
            last_modified = now
        order_date = order_date.replace(microsecond=0)
        last_modified = last_modified.replace(microsecond=0)

        if n_items is None:
            n_items = rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]
        products = rng.sample(PRODUCTS, k=min(max(n_items, 1), len(PRODUCTS)))
        if full:  # first item has options, second none; a quantity above one
            with_opts = [p for p in PRODUCTS if p.options and p.upc]
            without = [p for p in PRODUCTS if not p.options]
            products = [rng.choice(with_opts), rng.choice(without), *products[2 : max(n_items, 2)]]
        items = [self.item(chan, p, full=full and n == 0, with_options=True if full and n == 0 else None,
                           quantity=2 if full and n == 1 else None)
                 for n, p in enumerate(products[:max(n_items, 2) if full else n_items])]  # fmt: skip
        subtotal = sum((Decimal(i["unit_price"]) * i["quantity"] for i in items), Decimal("0"))
        if full or rng.random() < 0.2:
            items.append(self.adjustment(chan, subtotal))
        shipping = Decimal("0") if rng.random() < 0.4 else Decimal(rng.choice(("4.99", "5.99", "8.50", "12.95")))
        shipping = (shipping * chan.rate).quantize(Decimal("1") if chan.currency == "JPY" else CENT)
        tax_rate = Decimal(rng.choice(("0", "0", "0.06", "0.0725", "0.08875")))
        gift = full or rng.random() < 0.1
        market_id, alt_id = self.marketplace_ids(chan, person.country)
        email = self.email(chan, bill_person)
        dims = None
        if full or (len(items) == 1 and items[0]["quantity"] == 1 and rng.random() < 0.5):
            dims = {"length": money(rng.choice((6, 8, 10, 12))), "width": money(rng.choice((4, 6, 8))),
                    "height": money(rng.choice((1, 2, 4))), "units": rng.choice(DIMENSION_UNITS)}  # fmt: skip
        if ship_to is True:
            ship = {"name": person.name, "company": ("Acme & Co. GmbH" if full else None), "address1": person.address1,
                    "address2": person.address2, "city": person.city, "state": person.state,
                    "postal_code": person.postal_code, "country": person.country, "phone": person.phone}  # fmt: skip
            if not full:
                if person.tag == "company":
                    ship["company"] = "Smith & Sons Hardware LLC"
                elif rng.random() < 0.5:
                    ship["company"] = ""
                if not ship["address2"] and rng.random() < 0.5:
                    ship["address2"] = None
                if rng.random() < 0.15:
                    ship["phone"] = None
        else:
            ship = "empty" if ship_to == "empty" else None
        bill_company = "Acme & Co. GmbH" if full else (None if rng.random() < 0.6 else "")
        bill = {"name": bill_person.name, "company": bill_company,
                "phone": bill_person.phone if full or rng.random() < 0.8 else None, "email": email}  # fmt: skip
        order = {
            "order_id": str(self._next_id),
            "order_number": f"LM-{self._next_number}",
            "order_date": order_date,
            "status": status,
            "last_modified": last_modified,
            "shipping_method": rng.choice(chan.shipping_methods),
            "payment_method": rng.choice(chan.payment_methods) if full or rng.random() < 0.9 else None,
            "currency_code": chan.currency,
            "order_total": "0.00",
            "tax_amount": "0.00",
            "shipping_amount": money(shipping),
            "customer_notes": rng.choice(CUSTOMER_NOTES) if full or rng.random() < 0.3 else None,
            "internal_notes": rng.choice(INTERNAL_NOTES) if full or rng.random() < 0.25 else None,
            "gift": gift if full or gift or rng.random() < 0.5 else None,
            "gift_message": rng.choice(GIFT_MESSAGES) if gift else None,
            "custom_field1": market_id,
            "custom_field2": chan.integration,
            "custom_field3": alt_id if (alt_id or rng.random() < 0.5) else None,
            "requested_warehouse": rng.choice(WAREHOUSES) if full or rng.random() < 0.7 else None,
            "source": chan.source,
            "dimensions": dims,
            "customer_code": email,
            "bill_to": bill,
            "ship_to": ship,
            "items": items,
            "extra": {},
            "export_line_item_ids": True if full else rng.random() < 0.85,
            "date_style": "24h" if full else self._pick_weighted(DATE_STYLES),
            "text_style": rng.choice(TEXT_STYLES),
            "shipments": [],
            "tracking_numbers": [],
        }
        if full or rng.random() < 0.3:
            order["extra"]["StoreCode"] = "listingmirror_1"
        if rng.random() < 0.15:
            order["extra"]["OrderPaymentMethodTitle"] = order["payment_method"] or "Marketplace"
        if full and not order["custom_field3"]:
            order["custom_field3"] = alt_id or f"{market_id}-ALT"
        recompute_totals(order, tax_rate)
        if status == "Shipped":
            self.mark_shipped(order, when=last_modified)
        return order

    def mark_shipped(self, order: dict, *, when: datetime) -> None:
        """Record a generated (earlier) shipment covering every item."""
        carrier, service, tracking = self.rng.choice(CARRIERS)
        tracking = tracking[:-4] + self._digits(4)
        for item in order["items"]:
            if not item.get("adjustment"):
                item["shipped_quantity"] = item["quantity"]
        order["shipments"].append({
            "tracking_number": tracking, "carrier": carrier, "service": service,
            "ship_date": when.strftime("%m/%d/%Y"), "items": [
                {"line_item_id": i["line_item_id"], "sku": i["sku"], "quantity": i["quantity"]}
                for i in order["items"] if not i.get("adjustment")],
            "ship_all": True, "source": "generated", "received_at": when,
        })  # fmt: skip
        order["tracking_numbers"].append(tracking)

    def batch(self, count: int, *, now: datetime, historic: bool = False) -> list[dict]:
        """``count`` orders. A batch of 10 or more holds exactly one order without ShipTo (status Paid), exactly one
        with a status outside Listing Mirror's five, one "full" order (every element of the §1.3 table), one of each
        non-Latin script and one of each status, the rest random; then shuffled."""
        plans: list[dict] = [{} for _ in range(count)]
        if count >= 10:
            forced = [{"ship_to": False, "status": "Paid"}, {"full": True, "status": "Paid"},
                      {"status": self.rng.choice(CUSTOM_STATUSES)}, {"tag": "polish"}, {"tag": "german"},
                      {"tag": "japanese"}, {"tag": "cyrillic"}, {"tag": "greek"}, {"status": "Unpaid"},
                      {"status": "Cancelled"}, {"status": "Hold"}, {"status": "Shipped", "n_items": 3}]  # fmt: skip
            for n, plan in enumerate(forced[:count]):
                plans[n] = plan
            self.rng.shuffle(plans)
        orders = []
        for plan in plans:
            status = plan.get("status") or self._pick_weighted(STATUS_WEIGHTS)
            orders.append(self.order(now=now, historic=historic, status=status, tag=plan.get("tag"),
                                     ship_to=plan.get("ship_to", True), full=plan.get("full", False),
                                     n_items=plan.get("n_items")))  # fmt: skip
        return orders


def recompute_totals(order: dict, tax_rate: Decimal | None = None) -> None:
    """OrderTotal = lines (adjustments included) + shipping + tax; tax recomputed only when a rate is given."""
    subtotal = Decimal("0")
    for item in order.get("items") or []:
        try:
            subtotal += Decimal(str(item["unit_price"])) * int(item["quantity"])
        except (KeyError, ValueError, ArithmeticError):
            continue
    if tax_rate is not None:
        tax = max(subtotal, Decimal("0")) * tax_rate
        order["tax_amount"] = money(tax.quantize(Decimal("1")) if order.get("currency_code") == "JPY" else tax)
    total = subtotal + Decimal(str(order.get("shipping_amount") or "0")) + Decimal(str(order.get("tax_amount") or "0"))
    order["order_total"] = money(total)
