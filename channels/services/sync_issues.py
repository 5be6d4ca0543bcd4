"""Sync issues: what a person must look at, with the raw record and a retry."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import Store, SyncIssue, SyncRun


def _jsonable(raw: Mapping[str, Any] | str | None) -> dict:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"raw": raw}
    return json.loads(json.dumps(raw, default=str))


def sync_issue_record(
    *,
    store: Store,
    kind: str,
    external_id: str,
    message: str,
    payload: Mapping[str, Any] | str | None = None,
    run: SyncRun | None = None,
    order_id: int | None = None,
) -> SyncIssue:
    """One open issue per (store, kind, record): seeing it again bumps it instead of adding rows."""
    issue = SyncIssue.objects.filter(
        store=store, kind=kind, external_id=external_id, status=SyncIssue.Status.OPEN
    ).first()
    if issue is None:
        return SyncIssue.objects.create(
            store=store,
            kind=kind,
            external_id=external_id,
            message=message,
            payload=_jsonable(payload),
            run=run,
            order_id=order_id,
        )
    issue.message = message
    issue.payload = _jsonable(payload) or issue.payload
    issue.run = run or issue.run
    issue.order_id = order_id or issue.order_id
    issue.occurrences += 1
    issue.save(update_fields=["message", "payload", "run", "order", "occurrences", "last_seen_at"])
    return issue


def sync_issues_resolve(*, store: Store, kinds: Iterable[str], external_ids: Iterable[str]) -> int:
    external_ids = list(external_ids)
    if not external_ids:
        return 0
    return SyncIssue.objects.filter(
        store=store, kind__in=list(kinds), external_id__in=external_ids, status=SyncIssue.Status.OPEN
    ).update(status=SyncIssue.Status.RESOLVED, resolved_at=timezone.now())


@transaction.atomic
def sync_issue_resolve(*, issue: SyncIssue) -> SyncIssue:
    issue.status = SyncIssue.Status.RESOLVED
    issue.resolved_at = timezone.now()
    issue.save(update_fields=["status", "resolved_at", "last_seen_at"])
    return issue
