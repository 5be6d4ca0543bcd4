"""Listing Mirror against the custom store sandbox over real HTTP: mapping, partial shipping, changes, faults."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.base import ChannelAuthError, ChannelError
from channels.listingmirror.sandbox import CustomStoreSandbox
from channels.models import SyncIssue, SyncRun
from channels.services.order_import_run import order_import_run
from channels.services.outbox_delivery import outbox_deliver
from channels.services.stores import store_connect
from orders.models import Order, OutboxMessage
from orders.services.shipments import shipment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    with CustomStoreSandbox(username="lm-ss-test", password="s3cret-generated", seed=5, orders=15) as server:
        yield server


@pytest.fixture
def lm_store(merchant, sandbox):
    return store_connect(
        merchant=merchant,
        kind="listing_mirror",
        name="Listing Mirror",
        options={"url": sandbox.endpoint_url, "username": sandbox.username, "password": sandbox.password},
    )


def deliver_due() -> list[str]:
    return [outbox_deliver(message_id=m.pk) for m in OutboxMessage.objects.filter(status="pending")]


def import_until_done(store, attempts=6) -> SyncRun:
    for _ in range(attempts):
        try:
            return order_import_run(store_id=store.pk)
        except ChannelError as exc:
            assert exc.retryable or "DTD" in exc.message or "well-formed" in exc.message, exc
    raise AssertionError("import never completed")


def test_import_applies_the_status_mapping_and_quarantines_orders_without_ship_to(lm_store, sandbox):
    run = order_import_run(store_id=lm_store.pk)

    raw = sandbox.orders()
    without_address = [o for o in raw if not o.get("ship_to")]
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.created_count == len(raw) - len(without_address)
    assert SyncIssue.objects.filter(kind="quarantined").count() == len(without_address) >= 1
    expected = {
        "Unpaid": "awaiting_payment",
        "Paid": "awaiting_shipment",
        "Shipped": "shipped",
        "Cancelled": "cancelled",
        "Hold": "on_hold",
    }
    for order in Order.objects.filter(store=lm_store):
        status = order.external_status
        assert order.status == expected.get(status, "on_hold"), status
        if status not in expected:  # a custom status Listing Mirror never told us about
            assert SyncIssue.objects.get(kind="unmapped_status", external_id=order.external_id).order_id == order.pk
    assert SyncIssue.objects.filter(kind="unmapped_status").exists()


def test_partial_then_complete_shipment_reaches_the_store_with_both_tracking_numbers(lm_store, sandbox):
    added = sandbox.add_order(status="Paid", items=[{"quantity": 2}, {"quantity": 1}])
    order_import_run(store_id=lm_store.pk)
    order = Order.objects.get(store=lm_store, external_id=str(added["order_id"]))
    first, _second = [line for line in order.lines.all() if not line.is_adjustment]

    shipment_create(
        order=order,
        carrier_code="usps",
        service_code="usps_priority_mail",
        tracking_number="9400111899223197428490",
        quantities={first.pk: 1},
    )
    assert deliver_due() == ["delivered"]
    remote = sandbox.order(added["order_id"])
    assert remote["status"] == "Paid"
    assert [item["shipped_quantity"] for item in remote["items"] if not item.get("adjustment")] == [1, 0]

    shipment_create(order=order, carrier_code="ups", service_code="ups_ground", tracking_number="1Z999AA10123456784")
    assert deliver_due() == ["delivered"]
    remote = sandbox.order(added["order_id"])
    assert remote["status"] == "Shipped"
    assert remote["tracking_numbers"] == ["9400111899223197428490", "1Z999AA10123456784"]
    order.refresh_from_db()
    assert order.status == "shipped"
    notify = [r for r in sandbox.requests if r.query.get("action") == "shipnotify"]
    assert [r.query["carrier"] for r in notify] == ["USPS", "UPS"]


def test_a_status_that_changes_upstream_is_reflected_on_reimport(lm_store, sandbox):
    added = sandbox.add_order(status="Paid")
    order_import_run(store_id=lm_store.pk)
    sandbox.set_status(added["order_id"], "Cancelled")

    run = order_import_run(store_id=lm_store.pk)

    order = Order.objects.get(store=lm_store, external_id=str(added["order_id"]))
    assert run.updated_count >= 1
    assert (order.status, order.external_status) == ("cancelled", "Cancelled")


def test_reimport_changes_nothing(lm_store, sandbox):
    order_import_run(store_id=lm_store.pk)
    before = {o.pk: o.updated_at for o in Order.objects.all()}
    run = order_import_run(store_id=lm_store.pk, since=timezone.now() - timedelta(days=30))
    assert (run.created_count, run.updated_count) == (0, 0)
    assert {o.pk: o.updated_at for o in Order.objects.all()} == before


def test_faults_are_survived_with_nothing_lost_or_duplicated(lm_store, sandbox, settings):
    settings.CHANNEL_HTTP_READ_TIMEOUT = 1.0
    sandbox.generate(120)  # three pages of 50
    sandbox.inject(status_500=1, timeout=1, timeout_seconds=2)
    import_until_done(lm_store)
    sandbox.inject(malformed_xml=1)
    with pytest.raises(ChannelError, match="not well-formed XML"):
        order_import_run(store_id=lm_store.pk)
    sandbox.generate(10)
    sandbox.inject(xml_bomb=1)
    with pytest.raises(ChannelError, match="DTD or entities"):
        order_import_run(store_id=lm_store.pk)

    run = import_until_done(lm_store)

    assert run.status == "succeeded"
    errors = " | ".join(SyncRun.objects.filter(status="failed").values_list("error", flat=True))
    assert "not well-formed XML" in errors and "DTD or entities" in errors
    with_address = [o for o in sandbox.orders() if o.get("ship_to")]
    assert Order.objects.filter(store=lm_store).count() == len(with_address)
    assert len(set(Order.objects.values_list("external_id", flat=True))) == Order.objects.count()


def test_refused_credentials_flag_the_store_with_where_to_find_new_ones(lm_store, sandbox):
    sandbox.inject(status_401=1)
    with pytest.raises(ChannelAuthError):
        order_import_run(store_id=lm_store.pk)
    lm_store.refresh_from_db()
    assert lm_store.needs_new_credentials
    assert "Fulfillment Integrations → ShipStation" in lm_store.credentials_message
