"""Retrying a sync issue: fetch the record again (or re-send the failed update)."""

from __future__ import annotations

from django.db import transaction

from orders.models import OutboxMessage
from orders.services.outbox import outbox_retry
from shipping.core.errors import ApplicationError

from ..base import CapabilityNotSupported, ChannelAuthError, ChannelError, OrderPage, RecordFailure
from ..models import SyncIssue, SyncRun
from .adapters import adapter_for_store
from .order_import_run import import_page_write, store_status_map
from .stores import store_mark_needs_credentials
from .sync_issues import sync_issue_resolve


def sync_issue_retry(*, issue: SyncIssue) -> SyncIssue:
    """Returns the issue, resolved when the retry worked, still open (with the new reason) if not."""
    if issue.status != SyncIssue.Status.OPEN:
        raise ApplicationError("This issue is already resolved.")
    if issue.kind == SyncIssue.Kind.OUTBOUND_FAILED:
        return _retry_outbound(issue)
    return _retry_import(issue)


def _retry_outbound(issue: SyncIssue) -> SyncIssue:
    with transaction.atomic():
        failed = OutboxMessage.objects.filter(order_id=issue.order_id, status=OutboxMessage.Status.FAILED)
        for message in failed:
            outbox_retry(message=message)
        return sync_issue_resolve(issue=issue)


def _retry_import(issue: SyncIssue) -> SyncIssue:
    store = issue.store
    adapter = adapter_for_store(store)
    try:
        try:
            external = adapter.fetch_order(issue.external_id)
        except CapabilityNotSupported:
            external = adapter.map_raw(issue.payload)  # the protocol has no "get one order"
        page = OrderPage(orders=(external,))
    except ChannelAuthError as exc:
        store_mark_needs_credentials(store_id=store.pk, message=exc.message)
        raise ApplicationError(exc.message) from exc
    except ChannelError as exc:
        if exc.retryable:
            raise ApplicationError(f"The marketplace did not answer; try again later ({exc.message}).") from exc
        # Still unmappable (or gone): the issue stays open with the new reason.
        page = OrderPage(orders=(), failures=(RecordFailure(issue.external_id, exc.message, issue.payload),))
    run = SyncRun.objects.create(store=store, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.RUNNING)
    import_page_write(
        run=run, adapter_cls=type(adapter), page=page, status_map=store_status_map(store=store), force=True
    )
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = run.started_at if run.finished_at is None else run.finished_at
    run.save(update_fields=["status", "finished_at"])
    issue.refresh_from_db()
    return issue
