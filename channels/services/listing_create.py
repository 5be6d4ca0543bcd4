"""Listing creation: enabled products with everything Back Market needs and no listing yet go in one
CSV task; the task is polled until it ends; created listings are bound by SKU, refused rows leave
Back Market's message on the product's settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone

from catalog.models import ListingBinding, ListingEvent, ListingSettings, ListingSync, ListingTask
from catalog.services.listing_records import bindings_refresh, listing_event
from catalog.targets import listing_targets

from ..base import BaseChannelAdapter, ChannelRejected, ListingDraft, ListingTaskState
from ..models import Store
from .adapters import adapter_for_store

Kind, Trigger = ListingEvent.Kind, ListingEvent.Trigger


@dataclass
class CreateCounts:
    created: int = 0
    failed: int = 0
    pending: int = 0
    submitted: int = 0
    task: ListingTask | None = None
    message: str = ""

    def line(self) -> str:
        return f"created {self.created} failed {self.failed} pending {self.pending}"


def creation_candidates(*, store: Store, limit: int) -> list[ListingSettings]:
    """Enabled, complete (product id, grade, warranty, default price), not listed, not in a running task."""
    listed = ListingBinding.objects.filter(store=store, product__isnull=False).exclude(listing_id="")
    in_flight = {
        sku.upper()
        for task in ListingTask.objects.filter(store=store, status=ListingTask.Status.PENDING)
        for sku in task.skus
    }
    candidates = (
        ListingSettings.objects.filter(store=store, enabled=True, grade__isnull=False, price__isnull=False)
        .exclude(backmarket_id="")
        .exclude(product_id__in=listed.values("product_id"))
        .select_related("product")
        .annotate(sku_key=Upper("product__sku"))
        .order_by("product__sku")
    )
    return [row for row in candidates if row.sku_key not in in_flight][:limit]


def listings_create(
    *, store_id: int, adapter: BaseChannelAdapter | None = None, trigger: str = "schedule"
) -> CreateCounts:
    """Submit one creation task for every candidate the hourly write budget allows."""
    store = Store.objects.select_related("merchant").get(pk=store_id)
    counts = CreateCounts()
    ListingSync.objects.filter(store=store).update(last_create_at=timezone.now())
    adapter = adapter or adapter_for_store(store)
    rows = creation_candidates(store=store, limit=adapter.max_listing_drafts)
    if not rows:
        counts.message = "Nothing to create."
        return counts
    # The file's rows are listing lines: take what the budget allows (creation is low priority).
    take = len(rows)
    while take and adapter.reserve_listing_lines(take, low_priority=True) > 0:
        take //= 2
    if not take:
        counts.pending = len(rows)
        counts.message = "Back Market's hourly budget of listing writes is spent; the next hourly run tries again."
        return counts
    counts.pending = len(rows) - take
    rows = rows[:take]
    targets = listing_targets(
        store_id=store.pk, merchant_id=store.merchant_id, product_ids=[r.product_id for r in rows]
    )
    currency = adapter.currency_for_market()
    drafts = [
        ListingDraft(
            sku=row.product.sku,
            product_ref=row.backmarket_id,
            quantity=targets[row.product_id].quantity,
            price=row.price,
            currency=currency,
            grade=row.backmarket_grade,
            warranty_months=row.warranty_months,
        )
        for row in rows
    ]
    try:
        task_ref = adapter.submit_listing_drafts(drafts)
    except ChannelRejected as exc:
        listing_event(store=store, kind=Kind.CREATE_FAILED, trigger=Trigger.CREATE, message=exc.message)
        counts.failed = len(drafts)
        counts.message = exc.message
        return counts
    task = ListingTask.objects.create(store=store, task_id=task_ref, skus=[d.sku for d in drafts])
    listing_event(
        store=store,
        kind=Kind.CREATE_TASK,
        trigger=Trigger.CREATE,
        message=f"Task {task_ref}: {len(drafts)} listing(s) submitted.",
    )
    counts.submitted = len(drafts)
    counts.pending += len(drafts)
    counts.task = task
    return counts


def listing_task_poll(*, task_pk: int, adapter: BaseChannelAdapter | None = None) -> ListingTask:
    """Look at a task once; when it has ended, bind what was created and record what was refused."""
    task = ListingTask.objects.select_related("store", "store__merchant").get(pk=task_pk)
    if task.status != ListingTask.Status.PENDING:
        return task
    store = task.store
    adapter = adapter or adapter_for_store(store)
    try:
        state = adapter.fetch_listing_task(task.task_id)
    except ChannelRejected as exc:  # e.g. Back Market no longer knows the task: it will not end by itself
        state = ListingTaskState(task.task_id, finished=True, failed=True, error=exc.message)
    now = timezone.now()
    task.checked_at = now
    if not state.finished:
        task.save(update_fields=["checked_at"])
        return task
    with transaction.atomic():
        task.finished_at = now
        task.result = dict(state.raw)
        if state.failed:
            task.status = ListingTask.Status.FAILED
            task.error = state.error
            task.failed = len(task.skus)
            listing_event(
                store=store,
                kind=Kind.CREATE_FAILED,
                trigger=Trigger.CREATE,
                message=f"Task {task.task_id}: {state.error}",
            )
            _settings_errors(store, {sku.upper(): state.error for sku in task.skus})
        else:
            task.status = ListingTask.Status.SUCCEEDED
            created = [row for row in state.created if row.listing_ref]
            bindings = bindings_refresh(store=store, listings=created, trigger=Trigger.CREATE) if created else []
            for binding in bindings:
                listing_event(
                    store=store,
                    binding=binding,
                    kind=Kind.CREATED,
                    trigger=Trigger.CREATE,
                    quantity_after=binding.remote_quantity,
                    message=f"Created by task {task.task_id}.",
                )
            ListingSettings.objects.filter(
                store=store, product_id__in=[b.product_id for b in bindings if b.product_id]
            ).update(creation_error="", creation_error_at=None)
            errors = {sku.upper(): message for sku, message in state.row_errors}
            for sku, message in state.row_errors:
                listing_event(store=store, kind=Kind.CREATE_FAILED, trigger=Trigger.CREATE, sku=sku, message=message)
            _settings_errors(store, errors)
            task.created, task.failed = len(bindings), len(errors)
        task.save()
    return task


def _settings_errors(store: Store, errors: dict[str, str]) -> None:
    if not errors:
        return
    rows = list(
        ListingSettings.objects.filter(store=store).annotate(sku_key=Upper("product__sku")).filter(sku_key__in=errors)
    )
    now = timezone.now()
    for row in rows:
        row.creation_error, row.creation_error_at = errors[row.sku_key][:5000], now
    ListingSettings.objects.bulk_update(rows, ["creation_error", "creation_error_at"])
