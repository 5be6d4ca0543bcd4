"""A shipment notification reaches the marketplace exactly once, whatever dies in between."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.services import outbox_delivery
from channels.services.order_import_run import order_import_run
from channels.services.outbox_delivery import outbox_deliver, outbox_sweep
from orders.models import Order, OutboxMessage
from orders.services.shipments import shipment_create
from tests.conftest import fake_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(store, market):
    store.auto_accept = False
    store.save()
    market.put(fake_order("1"))
    order_import_run(store_id=store.pk)
    order = Order.objects.get()
    shipment = shipment_create(
        order=order, carrier_code="ups", tracking_number="1Z999AA10123456784", notify_customer=False
    )
    return OutboxMessage.objects.get(kind="notify_shipment", shipment=shipment)


def notices(market) -> list:
    return [payload for kind, payload in market.calls if kind == "notify_shipment"]


def test_worker_dies_after_the_channel_call_before_recording_it(shipped, market, monkeypatch):
    def die(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(outbox_delivery, "outbox_mark_delivered", die)
    with pytest.raises(SystemExit):
        outbox_deliver(message_id=shipped.pk)
    monkeypatch.undo()
    assert len(notices(market)) == 1
    shipped.refresh_from_db()
    assert shipped.status == "delivering"  # the claim is still held by the dead worker
    assert outbox_sweep() == []

    # The claim expires; the sweeper hands the message to another worker, which re-reads first.
    OutboxMessage.objects.filter(pk=shipped.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox_sweep() == [shipped.pk]
    assert outbox_deliver(message_id=shipped.pk) == "already applied"

    assert len(notices(market)) == 1
    shipped.refresh_from_db()
    assert shipped.status == "done"
    assert shipped.shipment.channel_notified_at is not None


def test_a_lost_broker_message_is_delivered_by_the_sweeper_once(shipped, market):
    # The task scheduled on commit never arrived (the test transaction never commits, like a lost message).
    assert notices(market) == []
    assert outbox_sweep() == [shipped.pk]

    assert outbox_deliver(message_id=shipped.pk) == "delivered"
    assert outbox_deliver(message_id=shipped.pk) == "not due"  # the original message arriving late

    assert len(notices(market)) == 1
    assert outbox_sweep() == []
