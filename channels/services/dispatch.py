from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..base import Capability
from ..models import Store
from ..registry import available_kinds, get_adapter_class


def stores_due_for_import() -> list[int]:
    """Active stores whose interval has elapsed; stamps them so the next tick does not re-send them."""
    now = timezone.now()
    kinds = [k for k in available_kinds() if Capability.FETCH_ORDERS in get_adapter_class(k).capabilities]
    with transaction.atomic():
        candidates = (
            Store.objects.select_for_update(skip_locked=True)
            .filter(kind__in=kinds, is_active=True, needs_new_credentials=False)
            .values_list("pk", "import_dispatched_at", "import_interval_minutes")
        )
        due = [
            pk
            for pk, dispatched_at, interval in candidates
            # A few seconds of slack so a 1-minute beat does not drift past a 5-minute interval.
            if dispatched_at is None or dispatched_at <= now - timedelta(minutes=interval, seconds=-5)
        ]
        Store.objects.filter(pk__in=due).update(import_dispatched_at=now)
    return due
