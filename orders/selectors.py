"""Every read of orders, scoped to the merchant, with the joins its callers need."""

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, Field, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from shipping.accounts.models import Merchant
from shipping.core.crypto import DecryptionError, decrypt_text, encrypt_text

from .models import Order, OrderLine, OutboxMessage, PrintBatch, Shipment, ShipmentLine, Tag, Warehouse
from .statuses import OrderStatus

# The grid's sortable columns: query-string key -> ORM path. "-key" sorts descending; id breaks ties.
ORDER_SORTS = {
    "order_date": "order_date",
    "order_number": "order_number",
    "customer": "customer_name",
    "store": "store__name",
    "total": "order_total",
    "status": "status",
}
ORDER_SORT_DEFAULT = "-order_date"
_DESCENDING_FIRST = {"order_date", "total"}  # a first click shows the newest / largest first
ORDER_PAGE_SIZE = 50


def order_sort_clean(sort: str | None) -> str:
    """A whitelisted sort; anything else is the default, never an error."""
    return sort if sort and sort.removeprefix("-") in ORDER_SORTS else ORDER_SORT_DEFAULT


def _day_start(day: date) -> datetime:
    # A range on order_date itself (not order_date__date) keeps the (…, order_date, id) indexes usable.
    return timezone.make_aware(datetime.combine(day, time.min))


def _with_grid_relations(orders: QuerySet[Order]) -> QuerySet[Order]:
    # The grid shows each order's store name, lines and tags; the store's secrets need no decrypting per row.
    return orders.select_related("store").defer("store__credentials").prefetch_related("lines", "tags")


def order_list(
    *,
    merchant: Merchant,
    status: str | None = None,
    store_id: int | None = None,
    search: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    carrier_code: str = "",
    sort: str = ORDER_SORT_DEFAULT,
) -> QuerySet[Order]:
    """The orders grid: a constant number of queries whatever the page length.

    Search covers order number, customer name and email, SKU, tracking number and IMEI / serial.
    Sorted by `sort` (see ORDER_SORTS), then id the same way, so the order is total and seekable.
    """
    sort = order_sort_clean(sort)
    path = ORDER_SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    qs = _with_grid_relations(Order.objects.filter(merchant=merchant)).order_by(
        f"-{path}" if descending else path, "-id" if descending else "id"
    )
    if status:
        qs = qs.filter(status=status)
    if store_id:
        qs = qs.filter(store_id=store_id)
    if date_from:
        qs = qs.filter(order_date__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(order_date__lt=_day_start(date_to + timedelta(days=1)))
    if carrier_code:
        qs = qs.filter(
            Exists(Shipment.objects.filter(order=OuterRef("pk"), carrier_code=carrier_code, voided_at__isnull=True))
        )
    if search:
        # The matching ids as one set, then the page. As a per-row OR filter (EXISTS per line and shipment)
        # the database walks the sort index through every order when few match: 0.4-0.9 s at 100k orders.
        own = Q(order_number__istartswith=search) | Q(customer_name__icontains=search)
        if "@" in search:  # else it is no email: one case-folded column fewer to compare on every order
            own |= Q(customer_email__iexact=search)
        matches = (
            Order.objects.filter(own, merchant=merchant)
            .values("pk")
            .order_by()
            .union(
                OrderLine.objects.filter(Q(sku__iexact=search) | Q(imei=search) | Q(serial_number__iexact=search))
                .values("order_id")
                .order_by(),
                Shipment.objects.filter(tracking_number__iexact=search).values("order_id").order_by(),
                all=True,
            )
        )
        qs = qs.filter(pk__in=matches)
    return qs


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of the grid. Cursors are opaque tokens; there is no total, so nothing is counted."""

    orders: list[Order]
    sort: str
    number: int  # 1 on the first page; carried by the cursors, not counted in the database
    next_cursor: str = ""
    previous_cursor: str = ""

    def sort_toggle(self, key: str) -> str:
        """What clicking this column's header sorts by: the other way round if it is the sort already."""
        if self.sort.removeprefix("-") == key:
            return key if self.sort.startswith("-") else f"-{key}"
        return f"-{key}" if key in _DESCENDING_FIRST else key

    def aria_sort(self, key: str) -> str:
        if self.sort.removeprefix("-") != key:
            return ""
        return "descending" if self.sort.startswith("-") else "ascending"


def _sort_field(path: str) -> Field:
    model = Order
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _cursor_dump(order: Order, *, sort: str, number: int, before: bool) -> str:
    value = reduce(getattr, ORDER_SORTS[sort.removeprefix("-")].split("__"), order)
    raw = value.isoformat() if isinstance(value, datetime) else str(value)
    # Encrypted, not just signed: a sort by customer would otherwise put names in URLs and access logs.
    return encrypt_text(json.dumps([sort, raw, order.pk, before, number]))


def _cursor_load(cursor: str, *, sort: str) -> tuple[object, int, bool, int] | None:
    """(sort value, id, before, page number) of a cursor for this sort; None when it is not one."""
    if not cursor:
        return None
    try:
        cursor_sort, raw, pk, before, number = json.loads(decrypt_text(cursor))
        if cursor_sort != sort or not isinstance(pk, int) or not isinstance(number, int):
            return None
        value = _sort_field(ORDER_SORTS[sort.removeprefix("-")]).to_python(raw)
    except (DecryptionError, ValueError, TypeError, ValidationError):
        return None
    return value, pk, bool(before), max(number, 1)


def order_list_page(
    *,
    merchant: Merchant,
    status: str | None = None,
    store_id: int | None = None,
    search: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    carrier_code: str = "",
    sort: str | None = None,
    cursor: str = "",
    size: int = ORDER_PAGE_SIZE,
) -> OrderPage:
    """A page of order_list, sought from the cursor's (sort value, id): no COUNT and no OFFSET, so a deep
    page costs what the first does. A cursor that is tampered with or from another sort gives the first page.
    """
    sort = order_sort_clean(sort)
    if status and sort.removeprefix("-") == "status":  # one status per tab: nothing to sort by there
        sort = ORDER_SORT_DEFAULT
    orders = order_list(
        merchant=merchant,
        status=status,
        store_id=store_id,
        search=search,
        date_from=date_from,
        date_to=date_to,
        carrier_code=carrier_code,
        sort=sort,
    )
    seek = _cursor_load(cursor, sort=sort)
    value, last_id, before, number = seek or (None, 0, False, 1)
    if seek:
        path = ORDER_SORTS[sort.removeprefix("-")]
        op = "lt" if sort.startswith("-") != before else "gt"  # Previous reads the order backwards
        # The redundant non-strict bound lets the database range-scan the index; the OR alone is a filter.
        orders = orders.filter(**{f"{path}__{op}e": value}).filter(
            Q(**{f"{path}__{op}": value}) | Q(**{path: value, f"id__{op}": last_id})
        )
        if before:
            orders = orders.reverse()
    # Choose the page on narrow (sort key, id) tuples, then load those rows: sorting every full row joined
    # to its store first costs ~0.3 s at 100k orders for a sort key without an index (total, customer).
    ids = list(orders.prefetch_related(None).values_list("pk", flat=True)[: size + 1])
    more, ids = len(ids) > size, ids[:size]
    found = {order.pk: order for order in _with_grid_relations(Order.objects.filter(merchant=merchant, pk__in=ids))}
    rows = [found[i] for i in ids if i in found]
    if before:
        rows.reverse()
        number = number if more else 1
    next_cursor = previous_cursor = ""
    if rows and (more or before):  # going back, the page we came from is still ahead
        next_cursor = _cursor_dump(rows[-1], sort=sort, number=number + 1, before=False)
    if rows and (more if before else seek is not None):
        previous_cursor = _cursor_dump(rows[0], sort=sort, number=number - 1, before=True)
    return OrderPage(orders=rows, sort=sort, number=number, next_cursor=next_cursor, previous_cursor=previous_cursor)


def order_status_counts(*, merchant: Merchant) -> dict[str, int]:
    # COUNT(*), not COUNT(id): then the (merchant, status) index alone answers it, without the table.
    counts = dict(Order.objects.filter(merchant=merchant).values_list("status").annotate(n=Count("*")).order_by())
    return {status: counts.get(status, 0) for status in OrderStatus.values}


def order_get(*, merchant: Merchant, order_id: int) -> Order:
    """One order of this merchant (Order.DoesNotExist for anyone else's)."""
    return (
        Order.objects.filter(merchant=merchant)
        .select_related("store")
        .prefetch_related(
            "lines",
            "tags",
            "status_changes",
            # The page shows each shipped line's SKU and each shipment's labels: one query each, not one per row.
            Prefetch("shipments__lines", queryset=ShipmentLine.objects.select_related("order_line")),
            "shipments__labels",
            "shipments__outbox_messages",
            "outbox_messages",
        )
        .get(pk=order_id)
    )


def warehouse_list(*, merchant: Merchant) -> QuerySet[Warehouse]:
    """The merchant's ship-from warehouses, the default first."""
    return Warehouse.objects.filter(merchant=merchant)


def tag_list(*, merchant: Merchant) -> QuerySet[Tag]:
    """The merchant's tags, by name (Tag's ordering)."""
    return Tag.objects.filter(merchant=merchant)


def order_for_outbound(*, order_id: int) -> Order:
    """An order with its live lines, for building marketplace requests (system use, no merchant)."""
    return Order.objects.select_related("store").prefetch_related("lines").get(pk=order_id)


def outbox_failed_for_order(*, order: Order) -> QuerySet[OutboxMessage]:
    return order.outbox_messages.filter(status=OutboxMessage.Status.FAILED)


def print_batch_get(*, merchant: Merchant, batch_id: int) -> PrintBatch:
    return PrintBatch.objects.get(merchant=merchant, pk=batch_id)


def store_choices(*, merchant: Merchant):
    """The merchant's stores for filters (orders never imports channels; the relation is enough)."""
    # With the foreign key: a related manager reads it on every row, one query per store when deferred.
    return merchant.stores.only("pk", "name", "merchant").order_by("name")


def dashboard_figures(*, merchant: Merchant, days: int = 30) -> dict:
    """Orders per status and per store, and orders imported per day over the last `days` days."""
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    per_day = dict(
        Order.objects.filter(merchant=merchant, created_at__date__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    series = [(start + timedelta(days=i), per_day.get(start + timedelta(days=i), 0)) for i in range(days)]
    per_store = list(
        Order.objects.filter(merchant=merchant).values("store__name").annotate(n=Count("id")).order_by("-n")
    )
    return {"per_status": order_status_counts(merchant=merchant), "per_store": per_store, "per_day": series}


def store_list_for_dashboard(*, merchant: Merchant):
    """Stores with their open issue counts (through the relation; orders does not import channels)."""
    return merchant.stores.annotate(
        open_issue_count=Count("sync_issues", filter=Q(sync_issues__status="open"))
    ).order_by("name")
