from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from shipping.core.errors import ApplicationError

from ..models import Order, OutboxMessage
from ..statuses import OrderStatus, StatusSource
from .outbox import outbox_add
from .shipments import shipped_quantities
from .status import order_set_status
from .stock_hooks import StockEvent, orders_stock_changed


@transaction.atomic
def order_cancel(
    *,
    order: Order,
    line_ids: Sequence[int] | None = None,
    reason: str = "other",
    actor: AbstractBaseUser | None = None,
    source: str = StatusSource.USER,
) -> Order:
    """Cancel the order, or some lines of it; the marketplace hears about it through the outbox.

    A line that has shipped cannot be cancelled (a refund after shipping is a return).
    """
    order = Order.objects.select_for_update(of=("self",)).select_related("store").get(pk=order.pk)
    if order.status in (OrderStatus.SHIPPED, OrderStatus.CANCELLED):
        raise ApplicationError(f"Order {order.order_number} is {order.get_status_display()}; it cannot be cancelled.")
    live = [line for line in order.lines.all() if line.removed_at is None and line.cancelled_at is None]
    targets = [line for line in live if not line_ids or line.pk in set(line_ids)]
    if line_ids and len(targets) != len(set(line_ids)):
        raise ApplicationError("Some of those lines are not open lines of this order.")
    shipped = shipped_quantities(order)
    sent = [line for line in targets if shipped.get(line.pk)]
    if sent:
        names = ", ".join(line.sku or line.name for line in sent)
        raise ApplicationError(
            f"{names} has already shipped and cannot be cancelled; a refund after shipping goes through a return.",
            field_errors={"lines": [f"{line.sku or line.name} has shipped." for line in sent]},
        )
    now = timezone.now()
    for line in targets:
        line.cancelled_at = now
        line.save(update_fields=["cancelled_at"])
    if {line.pk for line in live if not line.is_adjustment} <= {line.pk for line in targets}:
        order_set_status(
            order=order, status=OrderStatus.CANCELLED, source=source, actor=actor, note=f"Cancelled ({reason})"
        )
    if order.store.cancels_at_channel:
        outbox_add(
            kind=OutboxMessage.Kind.CANCEL,
            dedupe_key=f"cancel:{order.pk}:{','.join(str(line.pk) for line in targets)}",
            order=order,
            payload={"external_line_ids": [line.external_line_id for line in targets], "reason": reason},
        )
    orders_stock_changed(order_ids=[order.pk], event=StockEvent.CANCELLATION, actor=actor)
    return order
