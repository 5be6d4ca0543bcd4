"""Reads of the catalog and its stock, scoped to the merchant; each a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, FilteredRelation, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from orders.models import Order, OrderLine
from shipping.accounts.models import Merchant

from .models import (
    ListingBinding,
    ListingEvent,
    ListingSettings,
    ListingSync,
    ListingTask,
    Product,
    StockLevel,
    StockMovement,
)
from .services.stock import products_by_sku, sku_key

if TYPE_CHECKING:
    from channels.models import Store


def catalog_in_use(*, merchant_id: int) -> bool:
    """Whether the merchant keeps a catalog at all (without products, stock is not tracked)."""
    return Product.objects.filter(merchant_id=merchant_id).exists()


def product_list(*, merchant: Merchant) -> QuerySet[Product]:
    return Product.objects.filter(merchant=merchant).prefetch_related("stock_levels__warehouse")


def stock_available(*, merchant: Merchant, product_ids: Iterable[int]) -> dict[int, int]:
    """Available (on hand - allocated, over every warehouse) per product; 0 for a product without stock rows."""
    ids = set(product_ids)
    rows = (
        StockLevel.objects.filter(product__merchant=merchant, product_id__in=ids)
        .values("product_id")
        .annotate(on_hand=Sum("on_hand"), allocated=Sum("allocated"))
    )
    available = dict.fromkeys(ids, 0)
    available.update({row["product_id"]: row["on_hand"] - row["allocated"] for row in rows})
    return available


def stock_movements(*, merchant: Merchant, product_id: int | None = None) -> QuerySet[StockMovement]:
    movements = StockMovement.objects.filter(merchant=merchant).select_related("product", "warehouse", "order")
    return movements.filter(product_id=product_id) if product_id is not None else movements


def _lines(merchant: Merchant, order_ids: Iterable[int]) -> list[OrderLine]:
    return list(
        OrderLine.objects.filter(order__merchant=merchant, order_id__in=set(order_ids), is_adjustment=False)
        .filter(removed_at__isnull=True)
        .only("id", "order_id", "sku")
        .order_by("order_id", "id")
    )


def order_lines_unknown_sku(*, merchant: Merchant, order_ids: Iterable[int]) -> dict[int, set[int]]:
    """{order id: ids of its lines whose SKU is not in the catalog (or that have no SKU)}: two queries.

    Computed, never stored: a SKU added to the catalog clears the flag at once. Adjustment lines and
    lines the marketplace removed are not products and are never flagged.
    """
    lines = _lines(merchant, order_ids)
    known = products_by_sku([merchant.pk], (line.sku for line in lines))
    unknown: dict[int, set[int]] = defaultdict(set)
    for line in lines:
        if not line.sku.strip() or (merchant.pk, sku_key(line.sku)) not in known:
            unknown[line.order_id].add(line.pk)
    return dict(unknown)


def unknown_skus_for_orders(*, merchant: Merchant, order_ids: Iterable[int]) -> dict[int, list[str]]:
    """{order id: the SKUs of its lines that are not in the catalog, in line order} for the orders that have any.

    A line without a SKU shows as "(no SKU)".
    """
    lines = _lines(merchant, order_ids)
    known = products_by_sku([merchant.pk], (line.sku for line in lines))
    unknown: dict[int, list[str]] = defaultdict(list)
    for line in lines:
        sku = line.sku.strip()
        label = sku or "(no SKU)"
        if (not sku or (merchant.pk, sku_key(sku)) not in known) and label not in unknown[line.order_id]:
            unknown[line.order_id].append(label)
    return {order_id: skus for order_id, skus in unknown.items() if skus}


def unknown_skus_for_order(*, order: Order) -> list[str]:
    """The SKUs of the order's lines that are not in its merchant's catalog (the order page's flag)."""
    return unknown_skus_for_orders(merchant=order.merchant, order_ids=[order.pk]).get(order.pk, [])


# --- the web UI: products grid, product page, listings log ------------------------------------------

BACK_MARKET = "back_market"  # the channel kind whose listings the catalog keeps (catalog does not import channels)
PRODUCT_PAGE_SIZE = 50
RECENT_PAGE_SIZE = 25
MAX_PAGE = 10_000  # deeper than any catalog; a bigger page number is junk

# The grid's sortable columns: query-string key -> ORM path ("-key" sorts descending; id breaks ties). The
# listing columns read the selected store's binding and settings through FilteredRelations (one row each).
PRODUCT_SORTS = {
    "sku": "sku",
    "name": "name",
    "on_hand": "on_hand_total",
    "allocated": "allocated_total",
    "available": "available_total",
    "bm_quantity": "store_binding__remote_quantity",
    "price": "store_binding__remote_price",
    "min_price": "store_settings__min_price",
}
PRODUCT_SORT_DEFAULT = "sku"
LISTING_FILTERS = {"listed": "Listed", "not_listed": "Not listed", "errors": "Errors", "deferred": "Held back"}
STOCK_FILTERS = {"in_stock": "In stock", "out_of_stock": "Out of stock"}
LISTING_STATES = {
    "online": "Online",
    "offline": "Offline",
    "not_listed": "Not listed",
    "deferred": "Held back",
    "error": "Error",
}
ONLINE = 2  # Back Market publication_state: 2 online, 3 offline (the others are undocumented)


def listing_state(binding: ListingBinding | None, settings: ListingSettings | None) -> str:
    """One word for a product's listing in a store (a key of LISTING_STATES): an error first, then a change
    held back, then what Back Market shows."""
    if binding is None:
        return "error" if settings is not None and settings.creation_error else "not_listed"
    if binding.last_error:
        return "error"
    if binding.deferred_reason:
        return "deferred"
    return "online" if binding.publication_state == ONLINE else "offline"


def product_sort_clean(sort: str | None) -> str:
    """A whitelisted sort; anything else is the default, never an error."""
    return sort if sort and sort.removeprefix("-") in PRODUCT_SORTS else PRODUCT_SORT_DEFAULT


def listing_store_list(*, merchant: Merchant) -> QuerySet[Store]:
    """The merchant's Back Market stores (whose listings the catalog keeps), with their sync switches."""
    # Through the relation: catalog never imports channels.models. Secrets need no decrypting here.
    return merchant.stores.filter(kind=BACK_MARKET).select_related("listing_sync").defer("credentials").order_by("name")


def listing_store_get(*, merchant: Merchant, store_id: int) -> Store:
    """One of the merchant's Back Market stores (DoesNotExist for any other store)."""
    return listing_store_list(merchant=merchant).get(pk=store_id)


def listing_sync_for_store(*, store: Store) -> ListingSync:
    """The store's listing switches; an unsaved default (sync off) when they were never set."""
    return ListingSync.objects.filter(store=store).first() or ListingSync(store=store)


def listing_reconcile_counts(sync: ListingSync) -> list[tuple[str, Any]]:
    """The last reconcile's counts ({"pushed": 3, "not_found": 1}) as [("pushed", 3), ("not found", 1)]."""
    if not isinstance(sync.last_reconcile, dict):
        return []
    return [(str(key).replace("_", " "), value) for key, value in sync.last_reconcile.items()]


def _stock_total(column: str) -> Coalesce:
    totals = (
        StockLevel.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(total=Sum(column))
        .values("total")
    )
    return Coalesce(Subquery(totals), 0)


@dataclass(frozen=True, slots=True)
class ProductPage:
    """One page of the products grid. ``products`` carry ``on_hand_total``, ``allocated_total``,
    ``available_total`` and, for the selected store, ``binding``, ``listing`` (settings) and ``state``."""

    products: list[Product]
    sort: str
    number: int
    has_next: bool
    store: Any = None  # the Back Market store the listing columns show, or None

    def sort_toggle(self, key: str) -> str:
        """What clicking this column's header sorts by: the other way round if it is the sort already."""
        if self.sort.removeprefix("-") == key:
            return key if self.sort.startswith("-") else f"-{key}"
        return key

    def aria_sort(self, key: str) -> str:
        if self.sort.removeprefix("-") != key:
            return ""
        return "descending" if self.sort.startswith("-") else "ascending"


def product_grid(
    *,
    merchant: Merchant,
    store: Store | None = None,
    search: str = "",
    listing: str = "",
    stock: str = "",
    sort: str = PRODUCT_SORT_DEFAULT,
) -> QuerySet[Product]:
    """The products grid's rows: stock totals over every warehouse, and the store's listing joined (at most
    one binding and one settings row per product and store), filtered and sorted. No prefetches."""
    sort = product_sort_clean(sort)
    store_id = store.pk if store is not None else None
    qs = (
        Product.objects.filter(merchant=merchant)
        .annotate(on_hand_total=_stock_total("on_hand"), allocated_total=_stock_total("allocated"))
        .annotate(available_total=F("on_hand_total") - F("allocated_total"))
        .annotate(
            store_binding=FilteredRelation("listing_bindings", condition=Q(listing_bindings__store_id=store_id)),
            store_settings=FilteredRelation("listing_settings", condition=Q(listing_settings__store_id=store_id)),
        )
    )
    if search:
        qs = qs.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    if stock == "in_stock":
        qs = qs.filter(available_total__gt=0)
    elif stock == "out_of_stock":
        qs = qs.filter(available_total__lte=0)
    if listing and store_id is None:  # no Back Market store: nothing is listed
        qs = qs if listing == "not_listed" else qs.none()
    elif listing == "listed":
        qs = qs.filter(store_binding__id__isnull=False)
    elif listing == "not_listed":
        qs = qs.filter(store_binding__id__isnull=True)
    elif listing == "errors":
        qs = qs.filter(Q(store_binding__last_error__gt="") | Q(store_settings__creation_error__gt=""))
    elif listing == "deferred":
        qs = qs.filter(store_binding__deferred_reason__gt="")
    path = PRODUCT_SORTS[sort.removeprefix("-")]
    if store_id is None and path.startswith("store_"):
        path = "sku"
    descending = sort.startswith("-")
    key = F(path).desc(nulls_last=True) if descending else F(path).asc(nulls_last=True)
    return qs.order_by(key, "-id" if descending else "id")


def product_grid_page(
    *,
    merchant: Merchant,
    store: Store | None = None,
    search: str = "",
    listing: str = "",
    stock: str = "",
    sort: str | None = None,
    page: int = 1,
    size: int = PRODUCT_PAGE_SIZE,
) -> ProductPage:
    """A page of ``product_grid``: three queries whatever its length (the rows, and the store's bindings and
    settings of those rows).

    Numbered pages (OFFSET, no COUNT), not the orders grid's keyset: most sort keys here are computed (stock
    totals) or nullable joined columns that no index serves, so the database sorts the filtered catalog for
    any page either way, and a catalog is thousands of rows, not the hundreds of thousands of orders.
    """
    sort = product_sort_clean(sort)
    page = min(max(page, 1), MAX_PAGE)
    qs = product_grid(merchant=merchant, store=store, search=search, listing=listing, stock=stock, sort=sort)
    rows = list(qs[(page - 1) * size : page * size + 1])
    has_next, rows = len(rows) > size, rows[:size]
    bindings: dict[int, ListingBinding] = {}
    settings: dict[int, ListingSettings] = {}
    if store is not None and rows:
        ids = [product.pk for product in rows]
        bindings = {b.product_id: b for b in ListingBinding.objects.filter(store=store, product_id__in=ids)}
        settings = {s.product_id: s for s in ListingSettings.objects.filter(store=store, product_id__in=ids)}
    for product in rows:
        product.binding = bindings.get(product.pk)
        product.listing = settings.get(product.pk)
        product.state = listing_state(product.binding, product.listing)
    return ProductPage(products=rows, sort=sort, number=page, has_next=has_next, store=store)


def product_detail_get(*, merchant: Merchant, product_id: int) -> Product:
    """One product of this merchant (Product.DoesNotExist for anyone else's), with its stock per warehouse,
    its listings in every store and its listing settings: four queries."""
    return (
        Product.objects.filter(merchant=merchant)
        .prefetch_related(
            Prefetch(
                "stock_levels",
                queryset=StockLevel.objects.select_related("warehouse").order_by("-warehouse__is_default", "pk"),
            ),
            Prefetch(
                "listing_bindings",
                queryset=ListingBinding.objects.select_related("store").defer("store__credentials"),
            ),
            "listing_settings",
        )
        .get(pk=product_id)
    )


@dataclass(frozen=True, slots=True)
class RecentPage:
    """Newest first; ``older`` is the ``before`` of the next (older) page, None on the last one."""

    rows: list[Any]
    older: int | None
    newest: bool  # this is the first page


def _recent_page(qs: QuerySet, *, before: int | None, size: int) -> RecentPage:
    """A page of a (-created_at, -id) ordered queryset, older than the row ``before`` (keyset: no OFFSET, and
    a row added meanwhile does not shift the pages). A ``before`` outside the queryset gives nothing."""
    if before is not None:
        anchor = Subquery(qs.filter(pk=before).order_by().values("created_at")[:1])
        qs = qs.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    rows = list(qs[: size + 1])
    more, rows = len(rows) > size, rows[:size]
    return RecentPage(rows=rows, older=rows[-1].pk if more else None, newest=before is None)


def stock_movement_page(
    *, merchant: Merchant, product_id: int, before: int | None = None, size: int = RECENT_PAGE_SIZE
) -> RecentPage:
    """A product's stock movements, latest first, with their warehouse, order and who made them."""
    movements = StockMovement.objects.filter(merchant=merchant, product_id=product_id).select_related(
        "warehouse", "order", "actor"
    )
    return _recent_page(movements, before=before, size=size)


def listing_event_page(
    *,
    merchant: Merchant,
    store_id: int | None = None,
    product_id: int | None = None,
    kind: str = "",
    before: int | None = None,
    size: int = RECENT_PAGE_SIZE,
) -> RecentPage:
    """The listings log, latest first, with each event's store and product."""
    events = (
        ListingEvent.objects.filter(merchant=merchant).select_related("store", "product").defer("store__credentials")
    )
    if store_id is not None:
        events = events.filter(store_id=store_id)
    if product_id is not None:
        events = events.filter(product_id=product_id)
    if kind:
        events = events.filter(kind=kind)
    return _recent_page(events, before=before, size=size)


def listing_task_list(*, merchant: Merchant, limit: int = 20) -> QuerySet[ListingTask]:
    """The latest bulk listing-creation tasks of the merchant's stores."""
    return (
        ListingTask.objects.filter(store__merchant=merchant).select_related("store").defer("store__credentials")[:limit]
    )
