"""The listings log: what the listing sync sent, held back or was refused, the bulk creation tasks, and the
buttons that ask for a run now (owners and staff)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shipping.accounts.decorators import merchant_required, role_required
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError
from shipping.core.views import get_or_404

from .forms import ListingEventFilterForm, ListingRunForm
from .models import ListingSync
from .selectors import (
    listing_event_page,
    listing_reconcile_counts,
    listing_store_get,
    listing_store_list,
    listing_task_list,
)
from .services.listing_runs import listing_run_request
from .views import EDITORS, int_param

RUN_BUTTONS = [("reconcile", "Sync now"), ("create", "Create listings now"), ("reprice", "Reprice now")]


@merchant_required
def listings_log_view(request):
    stores = list(listing_store_list(merchant=request.merchant))
    filters = ListingEventFilterForm(request.GET or None, stores=stores)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    events = listing_event_page(
        merchant=request.merchant,
        store_id=criteria.get("store"),
        kind=criteria.get("kind") or "",
        before=int_param(request.GET.get("before")),
    )
    filter_query = request.GET.copy()
    filter_query.pop("before", None)
    syncs = []
    for store in stores:
        try:
            sync = store.listing_sync
        except ListingSync.DoesNotExist:
            sync = ListingSync(store=store)
        syncs.append((store, sync, listing_reconcile_counts(sync)))
    return render(
        request,
        "catalog/listings_log.html",
        {
            "events": events,
            "filters": filters,
            "filter_query": filter_query.urlencode(),
            "tasks": list(listing_task_list(merchant=request.merchant)),
            "run_actions": RUN_BUTTONS,
            "syncs": syncs,
            "can_run": request.membership.role in EDITORS,
            "is_owner": request.membership.role == Role.OWNER,
        },
    )


@require_POST
@role_required(Role.OWNER, Role.STAFF)
def listing_run_view(request):
    """Sync now / Create listings now / Reprice now for one Back Market store: queued on commit."""
    form = ListingRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a store and a run.")
        return redirect("listings-log")
    store = get_or_404(listing_store_get, merchant=request.merchant, store_id=form.cleaned_data["store"])
    try:
        queued = listing_run_request(store=store, action=form.cleaned_data["action"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{queued} Its events appear below within a few minutes.")
    return redirect("listings-log")
