"""A listing run asked for by hand ("Sync now", "Create listings now", "Reprice now" in the listings log).

The runs themselves are channels tasks; the catalog never imports channels, so they are sent by name, once
the caller's transaction commits (nothing is sent for a request that rolls back).
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction

from shipping.core.errors import ApplicationError

from ..models import ListingSync

BACK_MARKET = "back_market"

# action -> (Celery task name, what the merchant is told)
LISTING_RUNS = {
    "reconcile": ("channels.tasks.reconcile_listings", "A listings sync"),
    "create": ("channels.tasks.create_listings", "A listing creation run"),
    "reprice": ("channels.tasks.reprice_listings", "A repricer run"),
}


def listing_run_request(*, store: Any, action: str) -> str:
    """Queue a listing run of one Back Market store, on commit; returns what was queued, for the message.

    Refused (ApplicationError) for another kind of store, a deactivated store, a store whose listing sync is
    off (the merchant asked that nothing be sent), and "reprice" while the repricer is off.
    """
    if action not in LISTING_RUNS:
        raise ApplicationError(f"Unknown listing run {action!r}.")
    if store.kind != BACK_MARKET:
        raise ApplicationError(f"{store.name} has no listings the app keeps (Back Market stores only).")
    if not store.is_active:
        raise ApplicationError(f"{store.name} is deactivated: reactivate it in its settings first.")
    sync = ListingSync.objects.filter(store=store).first()
    if sync is None or sync.mode == ListingSync.Mode.OFF:
        raise ApplicationError(f"The listing sync of {store.name} is off: turn it on in the store's settings first.")
    if action == "reprice" and not sync.repricer:
        raise ApplicationError(f"The repricer of {store.name} is off: turn it on in the store's settings first.")
    name, label = LISTING_RUNS[action]
    store_id = store.pk
    transaction.on_commit(lambda: current_app.send_task(name, args=[store_id], kwargs={"trigger": "manual"}))
    return f"{label} of {store.name} has been queued."
