"""End to end through a real Celery worker on the configured broker (Redis in CI).

beat's job is played by calling the dispatcher task through the broker; the worker runs the
dispatcher, the per-store import, then the outbox delivery of the auto-accept, each as a real
message on its queue.
"""

import time

import pytest

from channels.models import SyncRun
from channels.tasks import dispatch_order_imports
from orders.models import Order, OutboxMessage
from tests.conftest import fake_order

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_orders_import_and_are_accepted_through_a_real_worker(store, market, celery_worker_thread):
    for n in range(3):
        market.put(fake_order(str(100 + n), minutes_ago=5 + n))
    market.put(fake_order("199", ship_to=None))

    dispatch_order_imports.delay()

    assert _wait_for(lambda: SyncRun.objects.filter(store=store, status="succeeded").exists()), list(
        SyncRun.objects.values("status", "error")
    )
    run = SyncRun.objects.get(store=store)
    assert (run.created_count, run.quarantined_count) == (3, 1)
    assert Order.objects.filter(store=store).count() == 3
    # Auto-accept: each new order was accepted at the marketplace by the worker, exactly once.
    assert _wait_for(lambda: OutboxMessage.objects.filter(status="done").count() == 3)
    assert not Order.objects.filter(acknowledged_at__isnull=True).exists()
    assert sorted(ref.external_id for kind, ref in market.calls if kind == "acknowledge") == ["100", "101", "102"]
