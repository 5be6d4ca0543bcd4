"""The one way an order's status changes: checked against the allowed moves, written to the timeline."""

from django.contrib.auth.models import AbstractBaseUser

from shipping.core.errors import ApplicationError

from ..models import Order, OrderStatusChange
from ..statuses import OrderStatus, StatusOwner, StatusSource, can_transition


def order_set_status(
    *,
    order: Order,
    status: str,
    source: str,
    actor: AbstractBaseUser | None = None,
    note: str = "",
    external_status: str = "",
    save: bool = True,
) -> bool:
    """Move the order and record it; returns False when it was already there.

    The caller owns the transaction. A move made by the app (user, API, system) takes the status
    over from the marketplace (status_owner = app); see order_import for what an import may do then.
    """
    if order.status == status:
        return False
    if not can_transition(order.status, status):
        raise ApplicationError(
            f"Order {order.order_number} cannot go from {order.get_status_display()} to {OrderStatus(status).label}.",
            code="invalid_transition",
        )
    old = order.status
    order.status = status
    order.status_owner = StatusOwner.CHANNEL if source == StatusSource.CHANNEL else StatusOwner.APP
    if status != OrderStatus.ON_HOLD:
        order.hold_until = None
        order.hold_reason = ""
    if save:
        order.save(update_fields=["status", "status_owner", "hold_until", "hold_reason", "updated_at"])
    OrderStatusChange.objects.create(
        order=order,
        old_status=old,
        new_status=status,
        source=source,
        actor=actor if actor is not None and actor.is_authenticated else None,
        external_status=external_status,
        note=note[:300],
    )
    return True
