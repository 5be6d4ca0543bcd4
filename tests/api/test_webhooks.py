"""Webhooks: subscribe/list/delete, ORDER_NOTIFY and SHIP_NOTIFY batches, signed deliveries, retries, SSRF refusal."""

import hashlib
import hmac
import http.server
import json
import threading
from datetime import UTC, datetime

import pytest

from orders.models import Order, Webhook, WebhookDelivery
from orders.services.webhooks import WebhookRetry, webhook_deliver, webhooks_dispatch
from tests.api.conftest import channel_order

pytestmark = pytest.mark.django_db

PUBLIC = "http://93.184.215.14/hooks/shipstation"  # an IP literal: no DNS needed, and public


class Receiver:
    """A local HTTP endpoint recording what it receives; answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on 127.0.0.1
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def subscribe(api, url, event="ORDER_NOTIFY", **extra):
    return api.post("/webhooks/subscribe", {"target_url": url, "event": event, "friendly_name": "ERP", **extra})


def test_subscribe_list_and_delete(api, other_api, store):
    response = subscribe(api, PUBLIC, store_id=store.pk)
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "signing_secret"}
    [listed] = api.get("/webhooks").json()["webhooks"]
    assert listed == {
        "IsLabelAPIHook": False,
        "WebHookID": created["id"],
        "SellerID": store.merchant_id,
        "StoreID": store.pk,
        "HookType": "ORDER_NOTIFY",
        "MessageFormat": "Json",
        "Url": PUBLIC,
        "Name": "ERP",
        "BulkCopyBatchID": None,
        "BulkCopyRecordID": None,
        "Active": True,
        "WebhookLogs": [],
        "Seller": None,
        "Store": None,
    }
    assert other_api.get("/webhooks").json() == {"webhooks": []}
    assert other_api.delete(f"/webhooks/{created['id']}").status_code == 404
    assert api.delete(f"/webhooks/{created['id']}").json()["success"] is True
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "ftp://93.184.215.14/hook",
    ],
)
def test_private_and_loopback_targets_are_refused(api, url):
    response = subscribe(api, url)
    assert response.status_code == 400
    assert "target_url" in response.json()["ModelState"]
    assert not Webhook.objects.exists()


def test_private_targets_are_allowed_by_the_setting(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert subscribe(api, "http://127.0.0.1:9/hook").status_code == 201


def test_subscribe_validation(api, other_merchant):
    from tests.factories import StoreFactory

    theirs = StoreFactory(merchant=other_merchant)
    assert "event" in subscribe(api, PUBLIC, event="ITEM_ORDER_NOTIFY").json()["ModelState"]
    assert "store_id" in subscribe(api, PUBLIC, store_id=theirs.pk).json()["ModelState"]
    assert "target_url" in api.post("/webhooks/subscribe", {"event": "SHIP_NOTIFY"}).json()["ModelState"]


def test_new_orders_are_announced_in_batches_and_resource_url_lists_them(api, store, receiver, client):
    before = channel_order(store, "OLD")  # before the subscription: never announced
    webhook_id = subscribe(api, receiver.url).json()["id"]
    secret = Webhook.objects.get().signing_secret
    first, second = channel_order(store, "W1"), channel_order(store, "W2")
    unpaid = channel_order(store, "W3")
    Order.objects.filter(pk=unpaid.pk).update(status="awaiting_payment")
    unpaid.status_changes.update(new_status="awaiting_payment")  # as an import of an unpaid order writes it

    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    assert webhooks_dispatch(settle_seconds=0) == []  # nothing new
    assert webhook_deliver(delivery_id=delivery_id) == "delivered"

    [request] = receiver.requests
    assert request["path"] == "/hook?x=1"
    body = json.loads(request["body"])
    assert body["resource_type"] == "ORDER_NOTIFY"
    assert body["resource_url"].startswith("http://testserver/api/v1/orders?importBatch=")
    signed = hmac.new(
        secret.encode(), request["headers"]["X-Webhook-Timestamp"].encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    assert request["headers"]["X-Webhook-Signature"] == f"sha256={signed}"
    assert request["headers"]["X-Webhook-Id"] == str(webhook_id)

    resource = api.get(body["resource_url"].removeprefix("http://testserver/api/v1"))
    assert [o["orderId"] for o in resource.json()["orders"]] == [first.pk, second.pk]
    assert before.pk not in [o["orderId"] for o in resource.json()["orders"]]

    # Paid later: announced in the next batch.
    from orders.services.status import order_set_status

    order_set_status(order=Order.objects.get(pk=unpaid.pk), status="awaiting_shipment", source="channel")
    [later] = webhooks_dispatch(settle_seconds=0)
    assert WebhookDelivery.objects.get(pk=later).object_ids == [unpaid.pk]

    log = api.get("/webhooks").json()["webhooks"][0]["WebhookLogs"]
    assert [(e["status"], e["attempts"], e["lastStatusCode"]) for e in log] == [
        ("pending", 0, None),
        ("delivered", 1, 200),
    ]
    assert api.get("/orders", {"importBatch": "nope"}).json()["total"] == 0


def test_ship_notify_announces_labels_not_mark_as_shipped(api, store, receiver, warehouse):
    subscribe(api, receiver.url, event="SHIP_NOTIFY")
    labelled, marked = channel_order(store, "L1"), channel_order(store, "L2")
    assert api.post("/orders/createlabelfororder", {"orderId": labelled.pk, "carrierCode": "other"}).status_code == 200
    assert api.post("/orders/markasshipped", {"orderId": marked.pk, "carrierCode": "ups"}).status_code == 200
    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.resource_url.startswith("http://testserver/api/v1/shipments?batchId=")
    shipments = api.get("/shipments", {"batchId": delivery.batch_id}).json()["shipments"]
    assert [s["orderId"] for s in shipments] == [labelled.pk]


def test_store_scoped_webhooks_only_hear_their_store(api, store, manual_store, receiver):
    subscribe(api, receiver.url, store_id=manual_store.pk)
    channel_order(store, "X1")
    assert webhooks_dispatch(settle_seconds=0) == []
    channel_order(manual_store, "X2")
    assert len(webhooks_dispatch(settle_seconds=0)) == 1


def test_the_settle_delay_holds_back_fresh_events(api, store, receiver):
    subscribe(api, receiver.url)
    channel_order(store, "S1")
    assert webhooks_dispatch(settle_seconds=3600) == []
    assert len(webhooks_dispatch(settle_seconds=0)) == 1


def test_failures_are_retried_then_given_up_and_logged(api, store, receiver):
    subscribe(api, receiver.url)
    channel_order(store, "R1")
    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    receiver.status = 503
    with pytest.raises(WebhookRetry):
        webhook_deliver(delivery_id=delivery_id)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    assert webhook_deliver(delivery_id=delivery_id, final=True) == "failed"
    receiver.status = 200
    assert webhook_deliver(delivery_id=delivery_id) == "failed"  # given up stays given up
    assert WebhookDelivery.objects.get(pk=delivery_id).attempts == 2


def test_a_4xx_is_not_retried(api, store, receiver):
    subscribe(api, receiver.url)
    channel_order(store, "R2")
    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    receiver.status = 410
    assert webhook_deliver(delivery_id=delivery_id) == "failed"


def test_a_target_that_became_private_is_refused_at_delivery(api, store, receiver, settings):
    subscribe(api, receiver.url)
    channel_order(store, "P1")
    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert webhook_deliver(delivery_id=delivery_id) == "failed"
    assert receiver.requests == []
    assert "not a public address" in WebhookDelivery.objects.get(pk=delivery_id).last_error


def test_the_delivery_task_retries_with_backoff(api, store, receiver, settings, monkeypatch):
    from orders import tasks

    subscribe(api, receiver.url)
    channel_order(store, "T1")
    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    receiver.status = 500
    retried = []

    def fake_retry(*, exc, countdown):
        retried.append(countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.deliver_webhook, "retry", fake_retry)
    with pytest.raises(RuntimeError):
        tasks.deliver_webhook.run(delivery_id)
    assert retried == [60]


def test_dispatch_task_queues_deliveries_after_commit(
    api, store, receiver, settings, django_capture_on_commit_callbacks
):
    from orders import tasks

    settings.WEBHOOK_SETTLE_SECONDS = 0
    subscribe(api, receiver.url)
    channel_order(store, "C1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.dispatch_webhooks.run() == 1
    assert len(callbacks) == 1


def test_webhook_deliveries_keep_their_time_of_creation(api, store, receiver):
    subscribe(api, receiver.url)
    channel_order(store, "D1")
    [delivery_id] = webhooks_dispatch(settle_seconds=0)
    assert WebhookDelivery.objects.get(pk=delivery_id).created_at <= datetime.now(UTC)
