"""Every read of orders, scoped to the merchant, with the joins its callers need."""

from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from shipping.accounts.models import Merchant

from .models import Order, OrderLine, OutboxMessage, PrintBatch, Shipment
from .statuses import OrderStatus


def order_list(
    *,
    merchant: Merchant,
    status: str | None = None,
    store_id: int | None = None,
    search: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    carrier_code: str = "",
) -> QuerySet[Order]:
    """The orders grid: a constant number of queries whatever the page length.

    Search covers order number, customer name and email, SKU, tracking number and IMEI / serial.
    """
    qs = (
        Order.objects.filter(merchant=merchant)
        .select_related("store")
        .prefetch_related("lines")
        .order_by("-order_date", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    if store_id:
        qs = qs.filter(store_id=store_id)
    if date_from:
        qs = qs.filter(order_date__date__gte=date_from)
    if date_to:
        qs = qs.filter(order_date__date__lte=date_to)
    if carrier_code:
        qs = qs.filter(
            Exists(Shipment.objects.filter(order=OuterRef("pk"), carrier_code=carrier_code, voided_at__isnull=True))
        )
    if search:
        lines = OrderLine.objects.filter(order=OuterRef("pk")).filter(
            Q(sku__iexact=search) | Q(imei=search) | Q(serial_number__iexact=search)
        )
        shipments = Shipment.objects.filter(order=OuterRef("pk"), tracking_number__iexact=search)
        qs = qs.filter(
            Q(order_number__istartswith=search)
            | Q(customer_name__icontains=search)
            | Q(customer_email__iexact=search)
            | Exists(lines)
            | Exists(shipments)
        )
    return qs


def order_status_counts(*, merchant: Merchant) -> dict[str, int]:
    counts = dict(Order.objects.filter(merchant=merchant).values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in OrderStatus.values}


def order_get(*, merchant: Merchant, order_id: int) -> Order:
    """One order of this merchant (Order.DoesNotExist for anyone else's)."""
    return (
        Order.objects.filter(merchant=merchant)
        .select_related("store")
        .prefetch_related(
            "lines", "status_changes", "shipments__lines", "shipments__outbox_messages", "outbox_messages"
        )
        .get(pk=order_id)
    )


def order_for_outbound(*, order_id: int) -> Order:
    """An order with its live lines, for building marketplace requests (system use, no merchant)."""
    return Order.objects.select_related("store").prefetch_related("lines").get(pk=order_id)


def outbox_failed_for_order(*, order: Order) -> QuerySet[OutboxMessage]:
    return order.outbox_messages.filter(status=OutboxMessage.Status.FAILED)


def print_batch_get(*, merchant: Merchant, batch_id: int) -> PrintBatch:
    return PrintBatch.objects.get(merchant=merchant, pk=batch_id)


def store_choices(*, merchant: Merchant):
    """The merchant's stores for filters (orders never imports channels; the relation is enough)."""
    return merchant.stores.only("pk", "name").order_by("name")


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
