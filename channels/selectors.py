"""Reads of stores and their sync log, always scoped to the merchant."""

from django.db.models import Count, Q, QuerySet

from shipping.accounts.models import Merchant

from .models import ChannelCall, Store, SyncIssue, SyncRun


def store_list(*, merchant: Merchant) -> QuerySet[Store]:
    return Store.objects.filter(merchant=merchant).annotate(
        order_count=Count("orders", distinct=True),
        open_issue_count=Count("sync_issues", filter=Q(sync_issues__status=SyncIssue.Status.OPEN), distinct=True),
    )


def store_get(*, merchant: Merchant, store_id: int) -> Store:
    return Store.objects.select_related("merchant").get(merchant=merchant, pk=store_id)


def sync_run_list(*, store: Store, limit: int = 50) -> QuerySet[SyncRun]:
    return store.sync_runs.all()[:limit]


def sync_issue_list(*, store: Store, status: str = SyncIssue.Status.OPEN, limit: int = 100) -> QuerySet[SyncIssue]:
    return store.sync_issues.filter(status=status).select_related("order")[:limit]


def sync_issue_get(*, merchant: Merchant, issue_id: int) -> SyncIssue:
    return SyncIssue.objects.select_related("store", "store__merchant").get(store__merchant=merchant, pk=issue_id)


def channel_call_list(*, store: Store, limit: int = 50) -> QuerySet[ChannelCall]:
    return store.calls.all()[:limit]
