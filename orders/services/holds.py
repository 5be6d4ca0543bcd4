from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from shipping.core.errors import ApplicationError

from ..models import Order
from ..statuses import OrderStatus, StatusSource
from .status import order_set_status


@transaction.atomic
def order_hold(
    *,
    order: Order,
    until: datetime | None = None,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
    source: str = StatusSource.USER,
) -> Order:
    """Put an order on hold (until a date, or until released); the app owns its status from now on."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if until is not None and until <= timezone.now():
        raise ApplicationError("The hold date must be in the future.", field_errors={"hold_until": ["In the past."]})
    note = f"Held until {until:%Y-%m-%d %H:%M} UTC" if until else "Held"
    order_set_status(
        order=order, status=OrderStatus.ON_HOLD, source=source, actor=actor, note=reason or note, save=False
    )
    order.hold_until = until
    order.hold_reason = (reason or note)[:300]
    order.save(update_fields=["status", "status_owner", "hold_until", "hold_reason", "updated_at"])
    return order


@transaction.atomic
def order_release_hold(
    *, order: Order, actor: AbstractBaseUser | None = None, source: str = StatusSource.USER
) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.ON_HOLD:
        raise ApplicationError(f"Order {order.order_number} is not on hold.")
    order_set_status(
        order=order, status=OrderStatus.AWAITING_SHIPMENT, source=source, actor=actor, note="Released from hold"
    )
    return order


def orders_release_expired_holds() -> int:
    """Release every hold whose date has passed; returns how many were released."""
    released = 0
    for order in Order.objects.filter(status=OrderStatus.ON_HOLD, hold_until__lte=timezone.now()):
        order_release_hold(order=order, source=StatusSource.SYSTEM)
        released += 1
    return released


def orders_hold_many(
    *, merchant, order_ids: list[int], reason: str, actor: AbstractBaseUser | None = None
) -> tuple[int, list[str]]:
    """Hold each of the merchant's orders; returns how many were held and why the others were not."""
    held, refused = 0, []
    for order in Order.objects.filter(merchant=merchant, pk__in=order_ids):
        try:
            order_hold(order=order, reason=reason, actor=actor)
            held += 1
        except ApplicationError as exc:
            refused.append(f"{order.order_number}: {exc.message}")
    return held, refused
