"""Every read of orders, scoped to the merchant, with the joins its callers need."""

from django.db.models import Count, QuerySet

from shipping.accounts.models import Merchant

from .models import Order, OutboxMessage
from .statuses import OrderStatus


def order_list(
    *, merchant: Merchant, status: str | None = None, store_id: int | None = None, search: str = ""
) -> QuerySet[Order]:
    """The orders grid: a constant number of queries whatever the page length."""
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
    if search:
        qs = qs.filter(order_number__istartswith=search) | qs.filter(customer_name__icontains=search)
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
