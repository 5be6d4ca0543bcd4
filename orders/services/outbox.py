"""Outbox: outbound marketplace work recorded with the change that causes it, delivered after commit.

Delivery itself (the HTTP side) lives in channels.services.outbox_delivery; this module only
writes and transitions rows, so orders never imports adapters.
"""

from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Order, OutboxMessage, Shipment

DELIVER_TASK = "channels.tasks.deliver_outbox_message"
CLAIM_SECONDS = 5 * 60


def _schedule_delivery(message_id: int) -> None:
    transaction.on_commit(lambda: current_app.send_task(DELIVER_TASK, args=[message_id]))


def outbox_add(
    *,
    kind: str,
    dedupe_key: str,
    order: Order,
    shipment: Shipment | None = None,
    payload: dict | None = None,
) -> OutboxMessage:
    """Record outbound work in the caller's transaction; the same dedupe_key twice is one message."""
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "kind": kind,
            "merchant_id": order.merchant_id,
            "store_id": order.store_id,
            "order": order,
            "shipment": shipment,
            "payload": payload or {},
            "next_attempt_at": timezone.now(),
        },
    )
    if created:
        _schedule_delivery(message.pk)
    return message


def outbox_add_many(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Many new messages in one INSERT (their dedupe keys are new, e.g. orders created just now)."""
    now = timezone.now()
    for message in messages:
        message.next_attempt_at = now
    created = OutboxMessage.objects.bulk_create(messages)
    for message in created:
        _schedule_delivery(message.pk)
    return created


def outbox_claim(*, message_id: int) -> OutboxMessage | None:
    """Claim a due message for one delivery attempt (a conditional UPDATE: one worker wins).

    A claim that expired means a worker died mid-delivery, maybe after the marketplace applied
    it: that attempt counts as ambiguous, so the next one re-reads the remote order first.
    """
    now = timezone.now()
    due = OutboxMessage.objects.filter(pk=message_id, next_attempt_at__lte=now)
    claim = {"status": OutboxMessage.Status.DELIVERING, "claimed_until": now + timedelta(seconds=CLAIM_SECONDS)}
    claimed = due.filter(status=OutboxMessage.Status.PENDING).update(**claim) or due.filter(
        status=OutboxMessage.Status.DELIVERING, claimed_until__lt=now
    ).update(**claim, ambiguous=True)
    if not claimed:
        return None
    return OutboxMessage.objects.select_related("store", "order", "shipment").get(pk=message_id)


@transaction.atomic
def outbox_mark_delivered(*, message: OutboxMessage, result: dict | None = None) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.DONE,
        delivered_at=now,
        claimed_until=None,
        ambiguous=False,
        attempts=message.attempts + 1,
        last_error="",
        result=result or {},
    )
    # The idempotency markers the UI shows, set in the same transaction as the outcome.
    if message.kind == OutboxMessage.Kind.ACKNOWLEDGE and message.order_id:
        Order.objects.filter(pk=message.order_id, acknowledged_at__isnull=True).update(acknowledged_at=now)
    if message.kind == OutboxMessage.Kind.NOTIFY_SHIPMENT and message.shipment_id:
        Shipment.objects.filter(pk=message.shipment_id).update(channel_notified_at=now)


def retry_delay_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff (30 s, 1 min, 2 min ... capped at 1 h), never sooner than retry_after."""
    delay = min(30 * 2 ** max(attempts - 1, 0), 60 * 60)
    return max(delay, retry_after or 0)


def outbox_mark_retry(
    *, message: OutboxMessage, error: str, ambiguous: bool = False, retry_after: float | None = None
) -> bool:
    """Schedule another attempt; returns False (and fails the message) once attempts run out."""
    attempts = message.attempts + 1
    if attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        outbox_mark_failed(message=message, error=f"Gave up after {attempts} attempts: {error}")
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.PENDING,
        attempts=attempts,
        ambiguous=ambiguous or message.ambiguous,
        claimed_until=None,
        last_error=error[:5000],
        next_attempt_at=timezone.now() + timedelta(seconds=retry_delay_seconds(attempts, retry_after)),
    )
    return True


def outbox_mark_failed(*, message: OutboxMessage, error: str) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.FAILED,
        attempts=message.attempts + 1,
        claimed_until=None,
        last_error=error[:5000],
    )


@transaction.atomic
def outbox_retry(*, message: OutboxMessage) -> None:
    """A person asked to try a failed message again."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    _schedule_delivery(message.pk)


def outbox_due_ids(*, limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(
        OutboxMessage.objects.filter(next_attempt_at__lte=now)
        .filter(
            Q(status=OutboxMessage.Status.PENDING) | Q(status=OutboxMessage.Status.DELIVERING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def outbox_mark_done_manually(*, message: OutboxMessage) -> None:
    """A person did it at the marketplace themselves: stop trying, keep the record."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.DONE,
        delivered_at=timezone.now(),
        claimed_until=None,
        result={"marked_done_by": "user"},
    )
