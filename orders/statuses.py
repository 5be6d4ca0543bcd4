"""Order statuses (ShipStation's five) and who may move an order between them."""

from django.db import models


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting Payment"
    AWAITING_SHIPMENT = "awaiting_shipment", "Awaiting Shipment"
    ON_HOLD = "on_hold", "On Hold"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class StatusSource(models.TextChoices):
    CHANNEL = "channel", "Marketplace"
    USER = "user", "User"
    API = "api", "API"
    SYSTEM = "system", "System"


class StatusOwner(models.TextChoices):
    """Who decides the status now: the marketplace, until the app moves the order itself."""

    CHANNEL = "channel", "Marketplace"
    APP = "app", "App"


S = OrderStatus

# The moves the app allows. Shipped and cancelled reopen only through an explicit act (a void,
# a restore), never by an import.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_PAYMENT: frozenset({S.AWAITING_SHIPMENT, S.ON_HOLD, S.SHIPPED, S.CANCELLED}),
    S.AWAITING_SHIPMENT: frozenset({S.AWAITING_PAYMENT, S.ON_HOLD, S.SHIPPED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.AWAITING_PAYMENT, S.AWAITING_SHIPMENT, S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.AWAITING_SHIPMENT}),
    S.CANCELLED: frozenset({S.AWAITING_PAYMENT, S.AWAITING_SHIPMENT}),
}

FINAL_STATUSES = frozenset({S.SHIPPED, S.CANCELLED})


def can_transition(old: str, new: str) -> bool:
    return old == new or new in ALLOWED_TRANSITIONS.get(old, frozenset())
