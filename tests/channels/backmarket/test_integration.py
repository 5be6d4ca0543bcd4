"""The Back Market channel against the sandbox over real HTTP: import, accept, IMEIs, ship, faults, tokens."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from channels.backmarket.client import BackMarketClient
from channels.backmarket.sandbox import EXAMPLE_USER_AGENT, BackMarketSandbox
from channels.base import ChannelAuthError, ChannelError, ChannelUnavailable
from channels.models import SyncIssue, SyncRun
from channels.services.order_import_run import order_import_run
from channels.services.outbox_delivery import outbox_deliver
from channels.services.stores import store_connect, store_update_credentials
from orders.models import Order, OutboxMessage
from orders.services.shipments import shipment_create
from shipping.core.errors import ApplicationError

pytestmark = pytest.mark.django_db

TOKEN = "c2FuZGJveDpzZWNyZXQtdG9rZW4="
IMEI_A, IMEI_B = "490154203237518", "356938035643809"


@pytest.fixture
def sandbox():
    with BackMarketSandbox(token=TOKEN, seed=7, orders=12) as server:
        yield server


@pytest.fixture
def bm_store(merchant, sandbox):
    merchant.company_name = "Acme Refurb"
    merchant.save()
    return store_connect(
        merchant=merchant,
        kind="back_market",
        name="Back Market EU",
        options={"region": "custom", "base_url": sandbox.base_url, "token": TOKEN},
    )


def visible(sandbox) -> list[dict]:
    return [o for o in sandbox.orders() if o["state"] not in (0, 8)]


def deliver_due() -> list[str]:
    outcomes = []
    for message in OutboxMessage.objects.filter(status="pending"):
        outcomes.append(outbox_deliver(message_id=message.pk))
    return outcomes


def import_until_done(store, attempts=6) -> SyncRun:
    """What the Celery task does on retryable errors, without the waiting."""
    for _ in range(attempts):
        try:
            return order_import_run(store_id=store.pk)
        except ChannelError as exc:
            assert exc.retryable, exc
    raise AssertionError("import never completed")


def test_import_accept_imei_in_notes_and_ship(bm_store, sandbox):
    run = order_import_run(store_id=bm_store.pk)

    no_address = [o for o in visible(sandbox) if not o["shipping_address"]]
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.created_count == len(visible(sandbox)) - len(no_address)
    assert run.quarantined_count == len(no_address) == 1
    assert SyncIssue.objects.get(kind="quarantined").external_id == str(no_address[0]["order_id"])
    # Every request carried Back Market's required headers.
    listing = next(r for r in sandbox.requests if "date_modification" in r.query)
    assert listing.headers["authorization"] == f"Basic {TOKEN}"
    assert listing.headers["user-agent"].startswith("BM-AcmeRefurb-Shipping;")
    assert listing.headers["accept-language"] == "fr-fr"
    assert listing.query["page-size"] == "50"

    # Auto-accept: every new order in state 1 gets new_state 2 once per SKU; Back Market moves it to 3.
    waiting = [o for o in visible(sandbox) if o["state"] == 1 and o["shipping_address"]]
    assert waiting
    assert set(deliver_due()) == {"delivered"}
    for order in waiting:
        assert sandbox.order(order["order_id"])["state"] == 3
    accepts = [r for r in sandbox.requests if r.method == "POST" and r.body.get("new_state") == 2]
    assert len(accepts) == sum(len({line["listing"] for line in o["orderlines"]}) for o in waiting)

    # A single-line, quantity-1 order: the IMEI typed into Internal Notes goes inline on the ship call.
    single = next(o for o in waiting if len(o["orderlines"]) == 1 and o["orderlines"][0]["quantity"] == 1)
    order = Order.objects.get(external_id=str(single["order_id"]))
    Order.objects.filter(pk=order.pk).update(internal_notes=f"IMEI {IMEI_A}")
    shipment_create(
        order=order,
        carrier_code="royal_mail",
        service_code="royal_mail_special_delivery",
        tracking_number="AB 1234 5678 9GB",
    )
    assert deliver_due() == ["delivered"]

    remote = sandbox.order(single["order_id"])
    assert remote["state"] == 9
    assert remote["tracking_number"] == "AB123456789GB"
    assert remote["shipper"] == "Royal Mail Express"
    assert remote["tracking_url"] == "https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB"
    assert remote["orderlines"][0]["imei"] == IMEI_A
    assert not any(r.method == "PATCH" for r in sandbox.requests)
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipments.get().channel_notified_at is not None


def test_multi_line_order_gets_its_imeis_by_patch(bm_store, sandbox):
    added = sandbox.add_order(state=1, lines=[{"quantity": 1}, {"quantity": 1}])
    order_import_run(store_id=bm_store.pk)
    deliver_due()
    order = Order.objects.get(external_id=str(added["order_id"]))
    first, second = order.lines.all()

    shipment_create(
        order=order,
        carrier_code="dhl_express",
        tracking_number="JD0001",
        serials={first.pk: [IMEI_A], second.pk: [IMEI_B]},
    )
    assert deliver_due() == ["delivered"]

    remote = sandbox.order(added["order_id"])
    assert remote["state"] == 9
    assert [line["imei"] for line in remote["orderlines"]] == [IMEI_A, IMEI_B]
    patches = [r for r in sandbox.requests if r.method == "PATCH"]
    assert [r.body for r in patches] == [{"imei": IMEI_A}, {"imei": IMEI_B}]
    ship = next(r for r in sandbox.requests if r.method == "POST" and r.body.get("new_state") == 3)
    assert "imei" not in ship.body and "sku" not in ship.body


def test_back_market_order_without_serials_cannot_be_shipped(bm_store, sandbox):
    order_import_run(store_id=bm_store.pk)
    order = Order.objects.filter(status="awaiting_shipment").first()
    with pytest.raises(ApplicationError, match="cannot be marked shipped"):
        shipment_create(order=order, carrier_code="ups", tracking_number="1Z")


def test_reimport_changes_nothing(bm_store, sandbox):
    order_import_run(store_id=bm_store.pk)
    before = {o.pk: o.updated_at for o in Order.objects.all()}

    run = order_import_run(store_id=bm_store.pk, since=timezone.now() - timedelta(days=30))

    assert (run.created_count, run.updated_count) == (0, 0)
    assert {o.pk: o.updated_at for o in Order.objects.all()} == before


def test_faults_do_not_lose_or_duplicate_orders(bm_store, sandbox, settings):
    settings.CHANNEL_HTTP_READ_TIMEOUT = 1.0
    sandbox.generate(60)  # more than one page of 50
    sandbox.inject(status_429=1, status_500=1, timeout=1, timeout_seconds=2)

    run = import_until_done(bm_store)

    def expected():
        return len([o for o in visible(sandbox) if o["shipping_address"]])

    assert run.status == SyncRun.Status.SUCCEEDED
    assert Order.objects.filter(store=bm_store).count() == expected()
    assert {f for r in sandbox.requests for f in r.faults} == {"status_429", "status_500", "timeout"}

    # One malformed record in the next page: quarantined with its raw payload, the rest imports.
    sandbox.generate(5)
    known = set(Order.objects.values_list("external_id", flat=True))
    sandbox.inject(malformed=1, malformed_kind="price_not_number")
    run = import_until_done(bm_store)
    [bad] = [f.split(":")[-1] for r in sandbox.requests for f in r.faults if f.startswith("malformed")]
    issue = SyncIssue.objects.get(external_id=bad, kind="quarantined")
    assert "not an amount" in issue.message and issue.payload["order_id"] == int(bad)
    assert Order.objects.filter(store=bm_store).count() == expected() - (bad not in known)
    assert len(set(Order.objects.values_list("external_id", flat=True))) == Order.objects.count()

    # Read again (the marketplace's copy is fine): it imports and the issue resolves itself.
    order_import_run(store_id=bm_store.pk, since=timezone.now() - timedelta(days=30))
    assert Order.objects.filter(store=bm_store).count() == expected()
    issue.refresh_from_db()
    assert issue.status == "resolved"


def test_expired_token_flags_the_store_and_a_new_token_resumes(bm_store, sandbox):
    order_import_run(store_id=bm_store.pk)
    bm_store.refresh_from_db()
    watermark = bm_store.orders_synced_until
    sandbox.revoke_token(TOKEN)
    added = sandbox.add_order(state=1)

    with pytest.raises(ChannelAuthError):
        order_import_run(store_id=bm_store.pk)

    bm_store.refresh_from_db()
    assert bm_store.needs_new_credentials
    assert "Options → Integrations" in bm_store.credentials_message
    assert bm_store.orders_synced_until == watermark
    with pytest.raises(ApplicationError, match="refused these credentials"):
        store_update_credentials(store=bm_store, options={"token": "not-the-new-one"})

    sandbox.add_token("bmV3LXRva2Vu")
    store_update_credentials(store=bm_store, options={"token": "bmV3LXRva2Vu"})
    run = order_import_run(store_id=bm_store.pk)

    assert run.created_count == 1
    assert Order.objects.filter(external_id=str(added["order_id"])).count() == 1
    bm_store.refresh_from_db()
    assert not bm_store.needs_new_credentials and bm_store.credentials == {"token": "bmV3LXRva2Vu"}


def test_cancelling_sends_state_4_before_acceptance_and_5_after(bm_store, sandbox):
    from orders.services.cancel import order_cancel

    bm_store.auto_accept = False
    bm_store.save()
    fresh = sandbox.add_order(state=1, lines=[{"quantity": 1}, {"quantity": 1}])
    order_import_run(store_id=bm_store.pk)
    order = Order.objects.get(external_id=str(fresh["order_id"]))
    first, second = order.lines.all()

    order_cancel(order=order, line_ids=[first.pk], reason="out_of_stock")
    deliver_due()
    assert sandbox.order(fresh["order_id"])["orderlines"][0]["state"] == 4

    # The seller accepts the other line in the Back Office.
    requests.post(
        f"{sandbox.base_url}/ws/orders/{fresh['order_id']}",
        timeout=5,
        json={"order_id": fresh["order_id"], "new_state": 2, "sku": fresh["orderlines"][1]["listing"]},
        headers={"Authorization": f"Basic {TOKEN}", "User-Agent": EXAMPLE_USER_AGENT},
    ).raise_for_status()
    order_cancel(order=order, line_ids=[second.pk])
    deliver_due()
    remote = sandbox.order(fresh["order_id"])
    assert [line["state"] for line in remote["orderlines"]] == [4, 5]
    assert remote["state"] == 9


def test_a_ship_call_that_timed_out_is_re_read_and_never_sent_twice(bm_store, sandbox, monkeypatch):
    added = sandbox.add_order(state=3, lines=[{"quantity": 1}])
    order_import_run(store_id=bm_store.pk)
    order = Order.objects.get(external_id=str(added["order_id"]))
    shipment_create(
        order=order,
        carrier_code="ups",
        service_code="ups_ground",
        tracking_number="1Z999AA10123456784",
        serials={order.lines.get().pk: [IMEI_A]},
    )
    message = OutboxMessage.objects.get(kind="notify_shipment")
    # Back Market applies the ship call, but its answer is lost (a read timeout after sending).
    real_update = BackMarketClient.update_order

    def lost_answer(self, order_id, body):
        result = real_update(self, order_id, body)
        if body.get("new_state") == 3:
            raise ChannelUnavailable("Read timed out.", ambiguous=True)
        return result

    monkeypatch.setattr(BackMarketClient, "update_order", lost_answer)
    assert outbox_deliver(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert message.ambiguous
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    assert outbox_deliver(message_id=message.pk) == "already applied"

    ship_calls = [r for r in sandbox.requests if r.method == "POST" and (r.body or {}).get("new_state") == 3]
    assert len(ship_calls) == 1
    assert sandbox.order(added["order_id"])["state"] == 9
    message.refresh_from_db()
    assert message.status == "done"
    assert order.shipments.get().channel_notified_at is not None
