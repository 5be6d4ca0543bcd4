"""Webhooks of the ShipStation-compatible API: subscribe, announce new orders and labels, deliver.

As ShipStation's, a delivery carries only ``{resource_url, resource_type}``; the subscriber GETs
resource_url with its API credentials to read the batch. Ours also carry an HMAC-SHA256 signature
(``X-Webhook-Signature: sha256=<hex>`` of ``"<X-Webhook-Timestamp>.<body>"``, keyed by the secret
returned at subscription). Targets that resolve to loopback, private or other non-public addresses
are refused, at subscription and again at each delivery (DNS can change), unless
WEBHOOK_ALLOW_PRIVATE_TARGETS is set.

ORDER_NOTIFY announces orders created in any status but Awaiting Payment, and Awaiting Payment
orders that moved on (not to Cancelled); SHIP_NOTIFY announces new labels (not mark-as-shipped),
as ShipStation's do. A periodic task collects what happened since each webhook's cursor, so imports
and label code need no hooks; a short settle delay lets slower transactions commit first.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError
from shipping.core.netguard import is_public_address, pinned_connection

from ..models import Label, OrderStatusChange, Webhook, WebhookDelivery
from ..statuses import OrderStatus

DELIVER_TASK = "orders.tasks.deliver_webhook"
USER_AGENT = "shipping-webhooks/1.0"


class WebhookRetry(Exception):
    """The target did not take the delivery (5xx, 429, timeout): try again later."""


class TargetRefused(Exception):
    """The target URL is not one we deliver to (a private address, a bad scheme)."""


def _addresses(url: str) -> tuple[str, int, str]:
    """(host, port, address to connect to) for a target URL, or TargetRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("The target URL must be an http or https URL.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The target host cannot be resolved ({exc}).") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise TargetRefused("The target host has no address.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            if not is_public_address(address):
                raise TargetRefused(f"The target resolves to {address}, which is not a public address.")
    return parts.hostname, port, addresses[0]


def _last_id(event: str) -> int:
    model = OrderStatusChange if event == Webhook.Event.ORDER_NOTIFY else Label
    return model.objects.aggregate(n=Max("id"))["n"] or 0


def webhook_subscribe(
    *,
    merchant: Merchant,
    target_url: str,
    event: str,
    api_base_url: str,
    store_id: int | None = None,
    friendly_name: str = "",
) -> tuple[Webhook, str]:
    """Returns the webhook and its signing secret (shown once). Only what happens from now on is announced."""
    if event not in Webhook.Event.values:
        allowed = ", ".join(Webhook.Event.values)
        raise ApplicationError(f"Unknown event {event!r}; supported: {allowed}.", field_errors={"event": [allowed]})
    if store_id is not None and not merchant.stores.filter(pk=store_id).exists():
        raise ApplicationError(f"There is no store {store_id}.", field_errors={"store_id": ["Unknown store."]})
    try:
        _addresses(target_url)
    except TargetRefused as exc:
        raise ApplicationError(str(exc), field_errors={"target_url": [str(exc)]}) from exc
    secret = secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(
        merchant=merchant,
        store_id=store_id,
        event=event,
        target_url=target_url,
        friendly_name=friendly_name[:200],
        api_base_url=api_base_url.rstrip("/")[:500],
        signing_secret=secret,
        cursor=_last_id(event),
    )
    return webhook, secret


def webhook_unsubscribe(*, webhook: Webhook) -> None:
    webhook.delete()


def _new_objects(webhook: Webhook, cutoff) -> tuple[list[int], int]:
    """Ids of what this webhook announces next, and the cursor after them."""
    if webhook.event == Webhook.Event.ORDER_NOTIFY:
        rows = OrderStatusChange.objects.filter(order__merchant_id=webhook.merchant_id)
        if webhook.store_id:
            rows = rows.filter(order__store_id=webhook.store_id)
        wanted = Q(old_status="") & ~Q(new_status=OrderStatus.AWAITING_PAYMENT)
        wanted |= Q(old_status=OrderStatus.AWAITING_PAYMENT) & ~Q(
            new_status__in=[OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED]
        )
        field = "order_id"
    else:
        rows = Label.objects.filter(shipment__order__merchant_id=webhook.merchant_id)
        if webhook.store_id:
            rows = rows.filter(shipment__order__store_id=webhook.store_id)
        wanted = Q()
        field = "shipment_id"
    rows = rows.filter(id__gt=webhook.cursor, created_at__lte=cutoff)
    last = rows.aggregate(n=Max("id"))["n"]
    if last is None:
        return [], webhook.cursor
    ids = rows.filter(wanted, id__lte=last).values_list(field, flat=True).distinct().order_by(field)
    return list(ids), last


def _resource_url(webhook: Webhook, batch_id: str) -> str:
    if webhook.event == Webhook.Event.ORDER_NOTIFY:
        return f"{webhook.api_base_url}/orders?importBatch={batch_id}"
    return f"{webhook.api_base_url}/shipments?batchId={batch_id}&includeShipmentItems=False"


def webhooks_dispatch(*, settle_seconds: int | None = None) -> list[int]:
    """One delivery per webhook with something new since its cursor; delivered by a task after commit."""
    settle = settings.WEBHOOK_SETTLE_SECONDS if settle_seconds is None else settle_seconds
    cutoff = timezone.now() - timedelta(seconds=settle)
    created: list[int] = []
    for webhook_id in Webhook.objects.filter(active=True).values_list("id", flat=True):
        with transaction.atomic():
            webhook = Webhook.objects.select_for_update().filter(pk=webhook_id, active=True).first()
            if webhook is None:
                continue
            ids, cursor = _new_objects(webhook, cutoff)
            if cursor != webhook.cursor:
                Webhook.objects.filter(pk=webhook.pk).update(cursor=cursor)
            if not ids:
                continue
            batch_id = uuid.uuid4().hex
            delivery = WebhookDelivery.objects.create(
                webhook=webhook, batch_id=batch_id, object_ids=ids, resource_url=_resource_url(webhook, batch_id)
            )
            transaction.on_commit(lambda pk=delivery.pk: current_app.send_task(DELIVER_TASK, args=[pk]))
            created.append(delivery.pk)
    return created


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    host, port, address = _addresses(url)
    parts = urlsplit(url)
    connection = pinned_connection(
        https=parts.scheme == "https", host=host, port=port, address=address, timeout=settings.WEBHOOK_TIMEOUT
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # the body is not ours to keep; read a little so the connection closes cleanly
        return response.status
    finally:
        connection.close()


def webhook_deliver(*, delivery_id: int, final: bool = False) -> str:
    """POST one delivery; raises WebhookRetry while attempts remain (``final`` marks the last one)."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery.status
    webhook = delivery.webhook
    body = json.dumps({"resource_url": delivery.resource_url, "resource_type": webhook.event}).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(webhook.pk),
        "X-Webhook-Delivery": delivery.batch_id,
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": webhook_signature(secret=webhook.signing_secret, timestamp=timestamp, body=body),
    }
    status_code, error, retry = None, "", False
    try:
        status_code = _post(webhook.target_url, body, headers)
    except TargetRefused as exc:
        error = str(exc)  # not worth retrying: the address is not one we send to
    except (OSError, http.client.HTTPException) as exc:
        error, retry = f"{type(exc).__name__}: {exc}", True
    else:
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
            retry = status_code >= 500 or status_code in (408, 429)
    delivered = status_code is not None and 200 <= status_code < 300
    status = (
        WebhookDelivery.Status.DELIVERED
        if delivered
        else WebhookDelivery.Status.PENDING
        if retry and not final
        else WebhookDelivery.Status.FAILED
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts + 1,
        last_status_code=status_code,
        last_error=error[:2000],
        status=status,
        delivered_at=timezone.now() if delivered else None,
    )
    if status == WebhookDelivery.Status.PENDING:
        raise WebhookRetry(error)
    return status
