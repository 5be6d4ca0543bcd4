"""Connecting a store and changing its settings (owners only): thin views over channels.services."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from catalog.forms import ListingSyncForm
from catalog.selectors import listing_reconcile_counts, listing_sync_for_store
from catalog.services.listing_settings import listing_sync_configure
from shipping.accounts.decorators import role_required
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError
from shipping.core.views import form_errors_from, get_or_404

from .base import ChannelKind
from .forms import StatusListsForm, StoreNameForm, StoreSettingsForm, settings_form_class
from .registry import UnknownChannel, get_adapter_class
from .selectors import store_get
from .services.status_mappings import status_mapping_lists, status_mappings_replace
from .services.stores import store_connect, store_set_active, store_update_credentials, store_update_settings
from .tasks import import_orders_for_store

CONNECTABLE = (ChannelKind.BACK_MARKET, ChannelKind.LISTING_MIRROR, ChannelKind.CUSTOM_STORE)


@role_required(Role.OWNER)
def store_connect_choose_view(request):
    tiles = []
    for kind in CONNECTABLE:
        try:
            tiles.append((kind.value, get_adapter_class(kind.value)))
        except UnknownChannel:
            continue
    return render(request, "channels/store_connect_choose.html", {"tiles": tiles})


@role_required(Role.OWNER)
def store_connect_view(request, kind: str):
    if kind not in {k.value for k in CONNECTABLE}:
        raise Http404("No such channel.")
    try:
        adapter_cls = get_adapter_class(kind)
    except UnknownChannel as exc:
        raise Http404(str(exc)) from exc
    form_class = settings_form_class(adapter_cls)
    form, name_form = form_class(request.POST or None), StoreNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and name_form.is_valid():
        try:
            store = store_connect(
                merchant=request.merchant,
                kind=kind,
                name=name_form.cleaned_data["name"],
                options=form.cleaned_data,
                check=True,
            )
        except ApplicationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, f"{store.name} is connected; its orders arrive within a few minutes.")
            import_orders_for_store.delay_on_commit(store.pk, trigger="manual")
            return redirect("store-settings", store_id=store.pk)
    return render(
        request, "channels/store_connect.html", {"adapter": adapter_cls, "form": form, "name_form": name_form}
    )


@role_required(Role.OWNER)
def store_settings_view(request, store_id: int):
    store = get_or_404(store_get, merchant=request.merchant, store_id=store_id)
    adapter_cls = get_adapter_class(store.kind)
    action = request.POST.get("action") if request.method == "POST" else None
    settings_form = StoreSettingsForm(
        request.POST if action == "settings" else None, request.FILES if action == "settings" else None, instance=store
    )
    credentials_form = settings_form_class(adapter_cls, secrets_optional=True)(
        request.POST if action == "credentials" else None, initial={**store.config}
    )
    status_form = StatusListsForm(
        request.POST if action == "statuses" else None, initial=status_mapping_lists(store=store)
    )
    # Back Market listings: sync mode, hourly creation, repricer (the catalog keeps them).
    listing_sync = listing_sync_for_store(store=store) if store.kind == ChannelKind.BACK_MARKET else None
    listing_form = None
    if listing_sync is not None:
        listing_form = ListingSyncForm(
            request.POST if action == "listings" else None,
            initial={
                "mode": listing_sync.mode,
                "create_listings": listing_sync.create_listings,
                "repricer": listing_sync.repricer,
            },
        )
    done = None
    try:
        if action == "settings" and settings_form.is_valid():
            store_update_settings(store=store, values=settings_form.cleaned_data)
            done = "Settings saved."
        elif action == "credentials" and credentials_form.is_valid():
            store_update_credentials(store=store, options=credentials_form.cleaned_data, check=True)
            done = "Credentials checked and saved; imports resume where they stopped."
        elif action == "statuses" and status_form.is_valid():
            status_mappings_replace(store=store, lists=status_form.cleaned_data)
            done = "Status mapping saved."
        elif action == "listings" and listing_form is not None and listing_form.is_valid():
            listing_sync_configure(store=store, **listing_form.cleaned_data)
            done = "Listing settings saved."
        elif action in ("deactivate", "reactivate"):
            store_set_active(store=store, active=action == "reactivate")
            done = f"{store.name} is {'active' if store.is_active else 'deactivated'}."
        elif action in ("sync", "resync"):
            since = (timezone.now() - timedelta(days=7)).isoformat() if action == "resync" else None
            import_orders_for_store.delay_on_commit(
                store.pk, trigger="manual" if since is None else "backfill", since=since
            )
            done = "An import has been queued." if since is None else "The last 7 days will be imported again."
    except ApplicationError as exc:
        form = {
            "settings": settings_form,
            "credentials": credentials_form,
            "statuses": status_form,
            "listings": listing_form,
        }.get(action)
        if form is not None:
            form_errors_from(form, exc)
        else:
            messages.error(request, exc.message)
    if done:
        messages.success(request, done)
        # After "sync now" the sync log is where the run shows up.
        return redirect("store-detail" if action in ("sync", "resync") else "store-settings", store_id=store.pk)
    return render(
        request,
        "channels/store_settings.html",
        {
            "store": store,
            "adapter": adapter_cls,
            "settings_form": settings_form,
            "credentials_form": credentials_form,
            "status_form": status_form,
            "listing_form": listing_form,
            "listing_sync": listing_sync,
            "listing_counts": listing_reconcile_counts(listing_sync) if listing_sync is not None else [],
        },
    )
