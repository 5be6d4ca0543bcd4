"""The contract between the app and a marketplace: adapter protocol, DTOs, capabilities, errors.

Adapters take settings and DTOs and return DTOs. They never touch the ORM: everything they need
(credentials, merchant details, the shared rate limiter, the call logger) arrives in an
``AdapterContext``. Statuses stay raw in DTOs; ``StatusMapping`` rows map them to ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from shipping.core.errors import (
    CapabilityNotSupported,
    RemoteAuthError,
    RemoteDataError,
    RemoteError,
    RemoteRateLimited,
    RemoteRejected,
    RemoteUnavailable,
)

if TYPE_CHECKING:  # annotations only: adapters stay free of Django at import time
    from shipping.core.http import CallRecord
    from shipping.core.ratelimit import RateLimiter

# One error hierarchy for every retry decision; the channel names are the ones the code reads.
ChannelError = RemoteError
ChannelAuthError = RemoteAuthError  # 401/403: the store needs new credentials; never retried
ChannelRateLimited = RemoteRateLimited  # 429: retry after .retry_after
ChannelUnavailable = RemoteUnavailable  # 5xx, timeouts: retried; .ambiguous -> re-read first
ChannelRejected = RemoteRejected  # other 4xx: kept verbatim for a human, not retried
ChannelDataError = RemoteDataError  # a record we cannot map: quarantined, the rest goes on

__all__ = [
    "AdapterContext",
    "Address",
    "BaseChannelAdapter",
    "CancelReason",
    "Capability",
    "CapabilityNotSupported",
    "ChannelAdapter",
    "ChannelAuthError",
    "ChannelDataError",
    "ChannelError",
    "ChannelKind",
    "ChannelRateLimited",
    "ChannelRejected",
    "ChannelUnavailable",
    "Competitor",
    "ExternalOrder",
    "ExternalOrderLine",
    "LineRef",
    "ListingDraft",
    "ListingPage",
    "ListingTaskState",
    "ListingUpdate",
    "OperationResult",
    "OrderPage",
    "OrderRef",
    "RecordFailure",
    "RemoteListing",
    "SettingField",
    "ShipmentNotice",
    "ShippedLine",
]


class ChannelKind(StrEnum):
    BACK_MARKET = "back_market"
    LISTING_MIRROR = "listing_mirror"
    CUSTOM_STORE = "custom_store"
    MANUAL = "manual"
    FAKE = "fake"  # the demo and test marketplace; only registered outside production

    @property
    def label(self) -> str:
        return {
            "back_market": "Back Market",
            "listing_mirror": "Listing Mirror",
            "custom_store": "Custom Store",
            "manual": "Manual orders",
            "fake": "Demo marketplace",
        }[self.value]


class Capability(StrEnum):
    FETCH_ORDERS = "fetch_orders"
    ACKNOWLEDGE = "acknowledge"
    NOTIFY_SHIPMENT = "notify_shipment"
    CANCEL = "cancel"
    PUSH_LISTINGS = "push_listings"
    READ_LISTINGS = "read_listings"
    CREATE_LISTINGS = "create_listings"
    REPRICE = "reprice"


class CancelReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    CUSTOMER_REQUEST = "customer_request"
    OTHER = "other"


# --- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting an adapter needs; drives the connect form and `connect_store`'s options.

    ``secret`` values are stored encrypted (Store.credentials) and never shown back;
    the others live in Store.config.
    """

    name: str
    label: str
    required: bool = True
    secret: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    help_text: str = ""
    is_url: bool = False


# --- DTOs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
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
    email: str = ""
    residential: bool | None = None

    @property
    def is_empty(self) -> bool:
        return not any((self.street1, self.street2, self.city, self.postal_code, self.country))


@dataclass(frozen=True, slots=True)
class ExternalOrderLine:
    external_line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    weight_grams: Decimal | None = None  # of one unit
    options: tuple[tuple[str, str], ...] = ()
    image_url: str = ""
    stock_location: str = ""
    upc: str = ""
    is_adjustment: bool = False
    external_status: str = ""
    tax_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExternalOrder:
    external_id: str
    order_number: str
    external_status: str  # raw (or adapter-normalised) channel value, mapped via StatusMapping
    order_date: datetime
    updated_at: datetime  # drives "skip if already up to date"
    lines: tuple[ExternalOrderLine, ...]
    ship_to: Address | None
    bill_to: Address | None = None
    currency: str = ""
    payment_date: datetime | None = None
    ship_by_date: datetime | None = None
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    customer_username: str = ""
    requested_shipping_service: str = ""
    payment_method: str = ""
    order_total: Decimal | None = None
    amount_paid: Decimal | None = None
    tax_amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    discount_amount: Decimal | None = None
    coupon_codes: tuple[str, ...] = ()
    gift: bool = False
    gift_message: str = ""
    customer_notes: str = ""
    internal_notes: str = ""  # taken on first import only; afterwards the app owns the notes
    custom_field_1: str = ""
    custom_field_2: str = ""
    custom_field_3: str = ""
    marketplace: str = ""  # hubs (Listing Mirror): the marketplace the order came from
    needs_acknowledgement: bool = False  # Back Market state 1: accept it (auto-accept)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """A record of a page that could not be mapped; it is quarantined, the page goes on."""

    external_id: str
    message: str
    raw: Mapping[str, Any] | str = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[ExternalOrder, ...]
    next_cursor: str | None = None  # opaque: page number, URL or token
    failures: tuple[RecordFailure, ...] = ()


@dataclass(frozen=True, slots=True)
class LineRef:
    external_line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderRef:
    external_id: str
    order_number: str
    lines: tuple[LineRef, ...]


@dataclass(frozen=True, slots=True)
class ShippedLine:
    line: LineRef
    quantity: int
    serials: tuple[str, ...] = ()  # IMEIs or serial numbers, one per unit


@dataclass(frozen=True, slots=True)
class ShipmentNotice:
    order: OrderRef
    lines: tuple[ShippedLine, ...]
    carrier_code: str
    service_code: str
    tracking_number: str
    shipped_at: datetime
    tracking_url: str = ""
    carrier_fee: Decimal | None = None
    note_to_buyer: str = ""


@dataclass(frozen=True, slots=True)
class ListingUpdate:
    """A real-time change of one listing: only the fields that are not None are sent."""

    sku: str
    quantity: int | None = None
    price: Decimal | None = None
    currency: str = ""
    listing_ref: str = ""
    market: str = ""  # where the price applies (Back Market: the Accept-Language); "" = the store's market


@dataclass(frozen=True, slots=True)
class RemoteListing:
    """A listing as the marketplace has it now. ``price`` is in ``currency`` of the market it was read in."""

    listing_ref: str  # Back Market: the listing UUID
    sku: str
    quantity: int
    price: Decimal | None = None
    currency: str = ""
    legacy_id: int | None = None
    product_ref: str = ""
    title: str = ""
    max_price: Decimal | None = None
    min_price: Decimal | None = None
    publication_state: int | None = None
    grade: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ListingPage:
    listings: tuple[RemoteListing, ...]
    next_cursor: str | None = None
    failures: tuple[RecordFailure, ...] = ()
    total: int | None = None


@dataclass(frozen=True, slots=True)
class ListingDraft:
    """One row of a bulk listing creation."""

    sku: str
    product_ref: str  # Back Market: a product UUID, or the number in the product's URL
    quantity: int
    price: Decimal
    currency: str
    grade: str  # Back Market's name: EXCELLENT, VERY_GOOD, GOOD, FAIR, STALLONE
    warranty_months: int


@dataclass(frozen=True, slots=True)
class ListingTaskState:
    """Where a bulk creation task is: still running, or ended with per-row results."""

    task_ref: str
    finished: bool
    failed: bool = False  # the whole task failed (``error`` says why)
    error: str = ""
    created: tuple[RemoteListing, ...] = ()  # rows that became (or updated) a listing
    row_errors: tuple[tuple[str, str], ...] = ()  # (sku, the marketplace's message)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Competitor:
    """The buybox for one listing in one market (Back Market's Backbox)."""

    market: str
    is_winning: bool
    price_to_win: Decimal | None
    currency: str = ""
    price: Decimal | None = None
    winner_price: Decimal | None = None
    min_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OperationResult:
    ok: bool
    external_ref: str = ""
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


# --- adapters -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """Everything an adapter may use; built by the registry from a Store (or a connect form)."""

    settings: Mapping[str, Any]  # config and decrypted credentials, by SettingField.name
    store_key: str  # stable id for rate-limit buckets (the store id, or a hash while connecting)
    merchant_name: str = ""
    merchant_email: str = ""
    call_logger: Callable[[CallRecord], None] | None = None
    rate_limiter: RateLimiter | None = None
    http_timeout: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds, on every request
    # Overrides of an adapter's documented limits, by name (tests and benches shrink them).
    limits: Mapping[str, float] = field(default_factory=dict)


@runtime_checkable
class ChannelAdapter(Protocol):
    kind: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    def test_connection(self) -> None: ...
    def fetch_orders(
        self, *, updated_since: datetime, updated_until: datetime, cursor: str | None = None
    ) -> OrderPage: ...
    def fetch_order(self, external_id: str) -> ExternalOrder: ...
    def acknowledge(self, order: OrderRef) -> OperationResult: ...
    def notify_shipment(self, notice: ShipmentNotice) -> OperationResult: ...
    def cancel(self, order: OrderRef, *, lines: Sequence[LineRef] | None, reason: CancelReason) -> OperationResult: ...
    def push_listings(self, updates: Sequence[ListingUpdate]) -> list[OperationResult]: ...


class BaseChannelAdapter:
    """What real adapters subclass: metadata for the UI plus 'not supported' defaults."""

    kind: ClassVar[str]
    label: ClassVar[str]
    # Templates get the class (for its label and kind); without this they would call it, i.e. instantiate it.
    do_not_call_in_templates: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    settings_fields: ClassVar[tuple[SettingField, ...]] = ()
    # external status -> our status; seeded into StatusMapping for each new store.
    default_status_map: ClassVar[Mapping[str, str]] = {}
    # "states": one row per channel state; "comma_lists": ShipStation's custom-store form.
    status_mapping_style: ClassVar[str] = "states"
    # What a shipment notification carries to this channel (seed tables "Data sent ...").
    shipment_fields_sent: ClassVar[frozenset[str]] = frozenset()

    # Back Market: every unit shipped needs an IMEI or serial number before it can be marked shipped.
    requires_serials: ClassVar[bool] = False
    # Sending the same outbound update twice is harmless (custom stores), so an ambiguous failure is
    # simply retried instead of re-reading the order first.
    outbound_is_idempotent: ClassVar[bool] = False
    # Rows one bulk listing creation may carry (0: the channel creates no listings).
    max_listing_drafts: ClassVar[int] = 0

    def __init__(self, context: AdapterContext) -> None:
        self.context = context

    @classmethod
    def validate_settings(cls, values: Mapping[str, Any]) -> dict[str, list[str]]:
        """Checks across fields (a custom region needs its URL); field name -> messages."""
        return {}

    def _unsupported(self, capability: Capability):
        raise CapabilityNotSupported(f"{self.label} does not support {capability.value}.")

    def test_connection(self) -> None:
        return None

    def fetch_orders(self, *, updated_since: datetime, updated_until: datetime, cursor: str | None = None) -> OrderPage:
        self._unsupported(Capability.FETCH_ORDERS)

    def fetch_order(self, external_id: str) -> ExternalOrder:
        self._unsupported(Capability.FETCH_ORDERS)

    def acknowledge(self, order: OrderRef) -> OperationResult:
        self._unsupported(Capability.ACKNOWLEDGE)

    def notify_shipment(self, notice: ShipmentNotice) -> OperationResult:
        self._unsupported(Capability.NOTIFY_SHIPMENT)

    def cancel(self, order: OrderRef, *, lines: Sequence[LineRef] | None, reason: CancelReason) -> OperationResult:
        self._unsupported(Capability.CANCEL)

    def push_listings(self, updates: Sequence[ListingUpdate]) -> list[OperationResult]:
        self._unsupported(Capability.PUSH_LISTINGS)

    # --- listings (the catalog's sync) -------------------------------------------------------------

    def fetch_listings(self, *, cursor: str | None = None) -> ListingPage:
        self._unsupported(Capability.READ_LISTINGS)

    def fetch_listing(self, *, listing_ref: str = "", sku: str = "") -> RemoteListing | None:
        """One listing by its reference or SKU, as the marketplace has it now; None if it has none."""
        self._unsupported(Capability.READ_LISTINGS)

    def push_listing(self, update: ListingUpdate) -> RemoteListing:
        """A real-time write of one listing; returns the listing as it is afterwards."""
        self._unsupported(Capability.PUSH_LISTINGS)

    def reserve_listing_lines(self, lines: int, *, low_priority: bool = False) -> float:
        """Take ``lines`` from the marketplace's listing-write budget: 0.0 when granted, else the seconds
        until they could be. ``low_priority`` (price changes) leaves a reserve for quantity pushes."""
        return 0.0

    def submit_listing_drafts(self, drafts: Sequence[ListingDraft]) -> str:
        """Start a bulk listing creation; returns the marketplace's task reference."""
        self._unsupported(Capability.CREATE_LISTINGS)

    def fetch_listing_task(self, task_ref: str) -> ListingTaskState:
        self._unsupported(Capability.CREATE_LISTINGS)

    def fetch_competitors(self, listing_ref: str) -> list[Competitor]:
        self._unsupported(Capability.REPRICE)

    def currency_for_market(self, market: str = "") -> str:
        return ""

    def map_raw(self, raw: Mapping[str, Any]) -> ExternalOrder:
        """Re-map a record kept in a SyncIssue, for channels that cannot fetch one order."""
        self._unsupported(Capability.FETCH_ORDERS)

    def outbound_already_applied(self, *, kind: str, remote: ExternalOrder, payload: Mapping[str, Any]) -> bool:
        """After an ambiguous failure (timeout after sending): did the remote apply it anyway?

        Marketplaces without idempotency keys (Back Market) reject a repeated write, so delivery
        re-reads the order and asks this before trying again.
        """
        return False
