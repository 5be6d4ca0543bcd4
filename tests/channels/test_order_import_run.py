"""The import pipeline through the fake adapter: idempotency, watermark, quarantine, ownership."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from channels.models import Store, SyncIssue, SyncRun
from channels.services.order_import_run import order_import_run, store_lease_claim
from channels.services.sync_issue_retry import sync_issue_retry
from orders.models import Order, OrderStatusChange
from orders.services.holds import order_hold
from orders.statuses import OrderStatus, StatusOwner
from shipping.core.errors import RemoteUnavailable
from tests.conftest import fake_order

pytestmark = pytest.mark.django_db


def test_import_creates_orders_with_every_field(store, market):
    market.put(
        fake_order(
            "1001",
            gift=True,
            gift_message="Joyeux anniversaire",
            customer_notes="Leave at door",
            internal_notes="VIP",
            coupons=["WELCOME10"],
            discount="10.00",
        )
    )

    run = order_import_run(store_id=store.pk)

    assert (run.status, run.created_count, run.quarantined_count) == (SyncRun.Status.SUCCEEDED, 1, 0)
    order = Order.objects.get(store=store, external_id="1001")
    assert order.merchant_id == store.merchant_id
    assert order.order_number == "N-1001"
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert (order.customer_name, order.customer_email, order.customer_phone) == (
        "Zofia Wójcik",
        "zofia@example.com",
        "+48 600 100 200",
    )
    assert (order.ship_to_city, order.ship_to_postal_code, order.ship_to_country) == ("Łódź", "90-006", "PL")
    assert order.requested_shipping_service == "Express"
    assert order.payment_method == "Card"
    assert (order.gift, order.gift_message, order.customer_notes) == (True, "Joyeux anniversaire", "Leave at door")
    assert order.internal_notes == "VIP"
    assert order.coupon_codes == "WELCOME10"
    assert str(order.order_total) == "324.0000"  # 329 + 5 shipping - 10 discount
    assert order.total_weight_grams == 174
    line = order.lines.get()
    assert (line.sku, line.quantity, line.unit_price, line.stock_location) == ("IPH13-128", 1, 329, "A-01")
    assert list(order.status_changes.values_list("new_status", "source")) == [("awaiting_shipment", "channel")]


def test_reimport_with_overlapping_window_changes_nothing(store, market):
    for n in range(3):
        market.put(fake_order(str(2000 + n), minutes_ago=5 + n))
    order_import_run(store_id=store.pk)
    before = {o.pk: o.updated_at for o in Order.objects.all()}
    timeline = OrderStatusChange.objects.count()

    run = order_import_run(store_id=store.pk)  # the window overlaps the last one by 10 minutes

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 0, 3)
    assert {o.pk: o.updated_at for o in Order.objects.all()} == before
    assert OrderStatusChange.objects.count() == timeline


def test_changed_record_is_updated_on_reimport(store, market):
    market.put(fake_order("3000", minutes_ago=30))
    order_import_run(store_id=store.pk)
    market.put(
        fake_order(
            "3000",
            minutes_ago=1,
            customer={"name": "Zofia W.", "email": "z@example.com"},
            lines=[{"id": "3000-2", "sku": "PXL7", "name": "Pixel 7", "qty": 2, "price": "200"}],
        )
    )

    run = order_import_run(store_id=store.pk)

    assert run.updated_count == 1
    order = Order.objects.get(external_id="3000")
    assert order.customer_name == "Zofia W."
    lines = {line.external_line_id: line for line in order.lines.all()}
    assert lines["3000-1"].removed_at is not None  # dropped by the marketplace: flagged, not deleted
    assert lines["3000-2"].quantity == 2 and lines["3000-2"].removed_at is None


def test_failed_page_does_not_advance_the_watermark(store, market):
    market.page_size = 2
    for n in range(5):
        market.put(fake_order(str(4000 + n), minutes_ago=20 - n))
    market.fail_pages = {1}

    with pytest.raises(RemoteUnavailable):
        order_import_run(store_id=store.pk)

    store.refresh_from_db()
    assert store.orders_synced_until is None
    run = store.sync_runs.get()
    assert run.status == SyncRun.Status.FAILED and "503" in run.error
    assert Order.objects.count() == 2  # the first page is kept; the next run re-reads the rest

    market.fail_pages = set()
    run = order_import_run(store_id=store.pk)
    store.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created_count, run.unchanged_count) == (3, 2)
    assert store.orders_synced_until == run.window_end


def test_watermark_never_moves_backwards_on_backfill(store, market):
    order_import_run(store_id=store.pk)
    store.refresh_from_db()
    mark = store.orders_synced_until
    old = timezone.now() - timedelta(days=60)

    order_import_run(store_id=store.pk, since=old, until=old + timedelta(days=1), trigger=SyncRun.Trigger.BACKFILL)

    store.refresh_from_db()
    assert store.orders_synced_until == mark


def test_record_without_ship_to_is_quarantined_and_the_rest_of_the_page_imports(store, market):
    market.put(fake_order("5001", minutes_ago=12))
    market.put(fake_order("5002", minutes_ago=11, ship_to=None))
    market.put(fake_order("5003", minutes_ago=10, lines=[{"id": "x", "sku": "A", "qty": "lots"}]))
    market.put(fake_order("5004", minutes_ago=9))

    run = order_import_run(store_id=store.pk)

    assert (run.created_count, run.quarantined_count) == (2, 2)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["5001", "5004"]
    no_address = SyncIssue.objects.get(external_id="5002")
    assert no_address.kind == SyncIssue.Kind.QUARANTINED
    assert "no ship-to address" in no_address.message
    assert no_address.payload["id"] == "5002"  # the raw record is kept for a person to read
    malformed = SyncIssue.objects.get(external_id="5003")
    assert "malformed line" in malformed.message
    store.refresh_from_db()
    assert store.orders_synced_until == run.window_end  # quarantined records do not block the store

    # Seen again: still one open issue per record, not one per run.
    order_import_run(store_id=store.pk, since=timezone.now() - timedelta(hours=1))
    assert SyncIssue.objects.filter(external_id="5002", status="open").count() == 1

    # Fixed at the marketplace, then retried from the sync log: imported, issue resolved.
    market.put(fake_order("5002", minutes_ago=1))
    issue = sync_issue_retry(issue=no_address)
    assert issue.status == SyncIssue.Status.RESOLVED
    assert Order.objects.filter(external_id="5002").exists()


def test_app_owned_fields_survive_a_reimport(store, market):
    market.put(fake_order("6001", minutes_ago=30))
    market.put(fake_order("6002", minutes_ago=30))
    order_import_run(store_id=store.pk)
    held = Order.objects.get(external_id="6001")
    Order.objects.filter(pk=held.pk).update(internal_notes="IMEI 490154203237518 on line 1")
    order_hold(order=held, reason="Waiting for stock")
    shipped = Order.objects.get(external_id="6002")
    shipped.lines.update(imei="490154203237518")
    Order.objects.filter(pk=shipped.pk).update(status=OrderStatus.SHIPPED, status_owner=StatusOwner.APP)

    # The marketplace changes both orders (still "paid" there) and they are re-imported.
    market.put(fake_order("6001", minutes_ago=1, internal_notes="from marketplace", customer_notes="ring twice"))
    market.put(fake_order("6002", minutes_ago=1, customer_notes="ring twice"))
    run = order_import_run(store_id=store.pk)

    assert run.updated_count == 2
    held.refresh_from_db()
    assert held.internal_notes == "IMEI 490154203237518 on line 1"
    assert held.customer_notes == "ring twice"  # channel-owned: refreshed
    assert (held.status, held.hold_reason) == (OrderStatus.ON_HOLD, "Waiting for stock")
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.SHIPPED
    assert shipped.lines.get().imei == "490154203237518"


def test_marketplace_cancellation_gets_through_a_hold(store, market):
    market.put(fake_order("6101", minutes_ago=30))
    order_import_run(store_id=store.pk)
    order = Order.objects.get(external_id="6101")
    order_hold(order=order, reason="Check address")

    market.put(fake_order("6101", minutes_ago=1, status="cancelled"))
    order_import_run(store_id=store.pk)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.status_changes.last().source == "channel"


def test_unmapped_status_puts_the_order_on_hold_with_an_issue(store, market):
    market.put(fake_order("7001", status="awaiting_fraud_check"))

    run = order_import_run(store_id=store.pk)

    order = Order.objects.get(external_id="7001")
    assert order.status == OrderStatus.ON_HOLD
    assert "awaiting_fraud_check" in order.hold_reason
    issue = SyncIssue.objects.get(kind=SyncIssue.Kind.UNMAPPED_STATUS)
    assert issue.order_id == order.pk and issue.run_id == run.pk
    assert "'awaiting_fraud_check'" in issue.message

    # The merchant maps the status, then retries: the order takes the mapped status.
    store.status_mappings.create(external_status="awaiting_fraud_check", status=OrderStatus.AWAITING_PAYMENT)
    issue = sync_issue_retry(issue=issue)
    order.refresh_from_db()
    assert issue.status == SyncIssue.Status.RESOLVED
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_refused_token_flags_the_store_and_stops_imports(store, market):
    store.credentials = {"token": market.reject_token}
    store.save()

    with pytest.raises(Exception, match="token was refused"):
        order_import_run(store_id=store.pk)

    store.refresh_from_db()
    assert store.needs_new_credentials
    assert "Create a new token" in store.credentials_message
    with pytest.raises(Exception, match="needs new credentials"):
        order_import_run(store_id=store.pk)


def test_a_held_lease_makes_a_second_import_skip(store, market):
    market.put(fake_order("8001"))
    assert store_lease_claim(store_id=store.pk) is not None

    run = order_import_run(store_id=store.pk)

    assert run.status == SyncRun.Status.SKIPPED
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_imports_started_at_once_run_one_at_a_time_without_duplicates(store, market):
    for n in range(20):
        market.put(fake_order(str(9000 + n), minutes_ago=20 - n / 2))
    market.fetch_delay = 0.5  # holds the lease while the other thread tries
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append(order_import_run(store_id=store.pk).status)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == [SyncRun.Status.SKIPPED, SyncRun.Status.SUCCEEDED]
    assert Order.objects.filter(store=store).count() == 20
    assert Store.objects.get(pk=store.pk).lease_expires_at is None  # released
    connections.close_all()


def test_a_record_the_database_refuses_fails_alone_and_the_page_still_imports(store, market):
    market.put(fake_order("9101", minutes_ago=12))
    twin = {"id": "same", "sku": "A", "name": "A", "qty": 1, "price": "1"}
    market.put(fake_order("9102", minutes_ago=11, lines=[twin, twin]))  # two lines, one id
    market.put(fake_order("9103", minutes_ago=10))

    run = order_import_run(store_id=store.pk)

    assert (run.created_count, run.quarantined_count) == (2, 1)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["9101", "9103"]
    issue = SyncIssue.objects.get(external_id="9102")
    assert "Could not be saved" in issue.message
    assert OrderStatusChange.objects.count() == 2  # nothing half-written for the refused record
