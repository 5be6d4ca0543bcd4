from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog.models import ListingEvent, ListingTask

from ..models import ChannelCall, SyncIssue, SyncRun


def sync_logs_purge() -> dict[str, int]:
    """Drop marketplace calls after CHANNEL_CALL_RETENTION_DAYS; runs, resolved issues and the listings log
    (events, ended creation tasks) after SYNC_LOG_RETENTION_DAYS."""
    now = timezone.now()
    calls, _ = ChannelCall.objects.filter(
        created_at__lt=now - timedelta(days=settings.CHANNEL_CALL_RETENTION_DAYS)
    ).delete()
    old = now - timedelta(days=settings.SYNC_LOG_RETENTION_DAYS)
    issues, _ = SyncIssue.objects.filter(status=SyncIssue.Status.RESOLVED, resolved_at__lt=old).delete()
    runs, _ = SyncRun.objects.filter(started_at__lt=old, issues__isnull=True).delete()
    events, _ = ListingEvent.objects.filter(created_at__lt=old).delete()
    tasks, _ = ListingTask.objects.filter(submitted_at__lt=old).exclude(status=ListingTask.Status.PENDING).delete()
    return {"calls": calls, "issues": issues, "runs": runs, "listing_events": events, "listing_tasks": tasks}
