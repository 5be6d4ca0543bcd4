import pytest

from channels.services.order_import_run import order_import_run
from orders.models import Order
from orders.services.holds import order_hold, order_release_hold, orders_release_expired_holds
from orders.services.status import order_set_status
from orders.statuses import ALLOWED_TRANSITIONS, OrderStatus, can_transition
from shipping.core.errors import ApplicationError
from tests.conftest import fake_order

S = OrderStatus


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        (S.AWAITING_PAYMENT, S.AWAITING_SHIPMENT, True),
        (S.AWAITING_SHIPMENT, S.ON_HOLD, True),
        (S.ON_HOLD, S.AWAITING_SHIPMENT, True),
        (S.AWAITING_SHIPMENT, S.SHIPPED, True),
        (S.SHIPPED, S.AWAITING_SHIPMENT, True),  # a voided shipment reopens the order
        (S.SHIPPED, S.CANCELLED, False),
        (S.SHIPPED, S.ON_HOLD, False),
        (S.CANCELLED, S.SHIPPED, False),
        (S.CANCELLED, S.ON_HOLD, False),
    ],
)
def test_transition_table(old, new, allowed):
    assert can_transition(old, new) is allowed


def test_every_status_has_a_row():
    assert set(ALLOWED_TRANSITIONS) == set(OrderStatus.values)


@pytest.mark.django_db
def test_set_status_records_the_timeline_and_refuses_bad_moves(store, market, owner):
    market.put(fake_order("1"))
    order_import_run(store_id=store.pk)
    order = Order.objects.get()
    order_set_status(order=order, status=S.SHIPPED, source="user", actor=owner, note="Shipped by hand")
    change = order.status_changes.last()
    assert (change.old_status, change.new_status, change.source, change.actor) == (
        "awaiting_shipment",
        "shipped",
        "user",
        owner,
    )
    assert order.status_owner == "app"
    with pytest.raises(ApplicationError, match="cannot go from Shipped to Cancelled"):
        order_set_status(order=order, status=S.CANCELLED, source="user")


@pytest.mark.django_db
def test_hold_until_a_date_is_released_when_due(store, market, time_machine=None):
    from datetime import timedelta

    from django.utils import timezone

    market.put(fake_order("1"))
    order_import_run(store_id=store.pk)
    order = Order.objects.get()
    with pytest.raises(ApplicationError, match="in the future"):
        order_hold(order=order, until=timezone.now() - timedelta(hours=1))
    order = order_hold(order=order, until=timezone.now() + timedelta(hours=1))
    assert order.status == S.ON_HOLD and order.hold_until
    assert orders_release_expired_holds() == 0
    Order.objects.filter(pk=order.pk).update(hold_until=timezone.now() - timedelta(seconds=1))
    assert orders_release_expired_holds() == 1
    order.refresh_from_db()
    assert (order.status, order.hold_until) == (S.AWAITING_SHIPMENT, None)
    with pytest.raises(ApplicationError, match="not on hold"):
        order_release_hold(order=order)
