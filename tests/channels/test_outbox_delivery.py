"""Auto-accept through the outbox: written with the order, delivered once, retried, re-read when ambiguous."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import SyncIssue
from channels.services.order_import_run import order_import_run
from channels.services.outbox_delivery import outbox_deliver, outbox_sweep
from channels.services.sync_issue_retry import sync_issue_retry
from orders.models import Order, OutboxMessage
from shipping.core.errors import RemoteRejected, RemoteUnavailable
from tests.conftest import fake_order

pytestmark = pytest.mark.django_db


def _import_one(store, market, **record):
    market.put(fake_order("1", **record))
    order_import_run(store_id=store.pk)
    return Order.objects.get(external_id="1")


def test_new_paid_order_is_accepted_once_through_the_outbox(store, market, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        order = _import_one(store, market)
    message = OutboxMessage.objects.get()
    assert (message.kind, message.order_id, message.status) == ("acknowledge", order.pk, "pending")
    assert len(callbacks) == 1  # delivery is scheduled only after the page commits

    assert outbox_deliver(message_id=message.pk) == "delivered"
    assert outbox_deliver(message_id=message.pk) == "not due"  # a duplicate task does nothing

    order.refresh_from_db()
    assert order.acknowledged_at is not None
    assert [kind for kind, _ in market.calls] == ["acknowledge"]
    assert market.calls[0][1].external_id == "1"

    # The marketplace now reports the order as accepted; re-importing it writes no second message.
    order_import_run(store_id=store.pk)
    assert OutboxMessage.objects.count() == 1


def test_auto_accept_off_or_unpaid_orders_write_nothing(store, market):
    store.auto_accept = False
    store.save()
    _import_one(store, market)
    market.put(fake_order("2", status="unpaid"))
    store.auto_accept = True
    store.save()
    order_import_run(store_id=store.pk)
    assert not OutboxMessage.objects.exists()


def test_transient_failure_is_retried_later(store, market):
    _import_one(store, market)
    message = OutboxMessage.objects.get()
    market.fail_outbound["acknowledge"] = RemoteUnavailable("503", ambiguous=False, status_code=503)

    assert outbox_deliver(message_id=message.pk) == "retry"

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at > timezone.now()
    assert outbox_sweep() == []  # not due yet
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox_sweep() == [message.pk]
    assert outbox_deliver(message_id=message.pk) == "delivered"


def test_after_an_ambiguous_timeout_the_order_is_re_read_before_sending_again(store, market):
    _import_one(store, market)
    message = OutboxMessage.objects.get()
    # The accept reached the marketplace, but the answer timed out.
    market.fail_outbound["acknowledge"] = RemoteUnavailable("read timeout", ambiguous=True)
    market.put({**market.get("1"), "accepted": True})
    assert outbox_deliver(message_id=message.pk) == "retry"
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    assert outbox_deliver(message_id=message.pk) == "already applied"

    assert [kind for kind, _ in market.calls] == ["acknowledge"]  # not sent a second time
    assert Order.objects.get().acknowledged_at is not None


def test_rejection_fails_visibly_and_can_be_retried(store, market):
    order = _import_one(store, market)
    message = OutboxMessage.objects.get()
    market.fail_outbound["acknowledge"] = RemoteRejected("order already accepted by another user", status_code=400)

    assert outbox_deliver(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == "failed" and "already accepted" in message.last_error
    issue = SyncIssue.objects.get(kind=SyncIssue.Kind.OUTBOUND_FAILED)
    assert issue.order_id == order.pk and "already accepted" in issue.message

    sync_issue_retry(issue=issue)
    message.refresh_from_db()
    assert message.status == "pending"
    assert outbox_deliver(message_id=message.pk) == "delivered"


def test_stuck_delivery_is_picked_up_by_the_sweeper(store, market):
    _import_one(store, market)
    message = OutboxMessage.objects.get()
    # A worker claimed it and died.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="delivering", claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_sweep() == [message.pk]
    assert outbox_deliver(message_id=message.pk) == "delivered"
