"""Recording what the listing sync saw and did: bindings refreshed from the marketplace, writes sent,
held back or refused, and the listings log. The HTTP side lives in channels.services.listing_*; this
module only writes catalog rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models.functions import Upper
from django.utils import timezone

from channels.base import ListingUpdate, RemoteListing

from ..models import ListingBinding, ListingEvent, Product

Kind, Trigger = ListingEvent.Kind, ListingEvent.Trigger
REMOTE_FIELDS = (
    "listing_id",
    "legacy_listing_id",
    "title",
    "publication_state",
    "remote_quantity",
    "remote_price",
    "remote_currency",
    "max_price",
    "last_seen_at",
    "product",
)


def listing_event(*, store: Any, kind: str, trigger: str, binding: ListingBinding | None = None, **fields: Any) -> None:
    ListingEvent.objects.create(
        merchant_id=store.merchant_id,
        store_id=store.pk,
        product_id=binding.product_id if binding else fields.pop("product_id", None),
        sku=binding.sku if binding else fields.pop("sku", ""),
        listing_id=binding.listing_id if binding else fields.pop("listing_id", ""),
        kind=kind,
        trigger=trigger,
        **fields,
    )


def _apply_remote(binding: ListingBinding, remote: RemoteListing, now: datetime) -> bool:
    """Copy what the marketplace has now onto the binding; True if anything changed."""
    values = {
        "listing_id": remote.listing_ref or binding.listing_id,
        "legacy_listing_id": remote.legacy_id if remote.legacy_id is not None else binding.legacy_listing_id,
        "title": remote.title or binding.title,
        "publication_state": remote.publication_state,
        "remote_quantity": remote.quantity,
        "remote_price": remote.price if remote.price is not None else binding.remote_price,
        "remote_currency": remote.currency or binding.remote_currency,
        "max_price": remote.max_price,
    }
    binding.last_seen_at = now  # not a change: bindings_refresh stamps every row seen in one UPDATE
    changed = False
    for name, value in values.items():
        if getattr(binding, name) != value:
            setattr(binding, name, value)
            changed = True
    return changed


def bindings_refresh(*, store: Any, listings: Sequence[RemoteListing], trigger: str) -> list[ListingBinding]:
    """Upsert a binding per listing read (by SKU, case-insensitively) and bind it to the catalog product
    with that SKU. Returns the bindings in the order of ``listings``. A constant number of queries."""
    now = timezone.now()
    keys = {remote.sku.strip().upper() for remote in listings}
    existing = {
        binding.sku_key: binding
        for binding in ListingBinding.objects.filter(store=store)
        .annotate(sku_key=Upper("sku"))
        .filter(sku_key__in=keys)
    }
    products = dict(
        Product.objects.filter(merchant_id=store.merchant_id)
        .annotate(sku_key=Upper("sku"))
        .filter(sku_key__in=keys)
        .values_list("sku_key", "pk")
    )
    # A product is bound to one listing per store: one already bound elsewhere keeps that binding.
    taken = set(
        ListingBinding.objects.filter(store=store, product_id__in=products.values()).values_list(
            "product_id", flat=True
        )
    )
    new, changed, bound, result = [], [], [], []
    for remote in listings:
        key = remote.sku.strip().upper()
        binding = existing.get(key)
        is_new = binding is None
        if is_new:
            binding = ListingBinding(store=store, sku=remote.sku.strip())
            existing[key] = binding
        dirty = _apply_remote(binding, remote, now)
        product_id = products.get(key)
        if binding.product_id is None and product_id is not None and product_id not in taken:
            binding.product_id = product_id
            taken.add(product_id)
            bound.append(binding)
            dirty = True
        if is_new:
            new.append(binding)
        elif dirty:
            changed.append(binding)
        result.append(binding)
    ListingBinding.objects.bulk_create(new, batch_size=1000)
    # Most listings read have not changed: they only get last_seen_at, in one UPDATE (bulk_update's CASE
    # expressions cost Django about 10 ms per row, which made a 10,000-listing reconcile take minutes).
    if changed:
        for binding in changed:
            binding.updated_at = now
        ListingBinding.objects.bulk_update(changed, [*REMOTE_FIELDS, "updated_at"], batch_size=1000)
    written = {id(binding) for binding in (*changed, *new)}
    seen = [binding.pk for binding in result if id(binding) not in written]
    if seen:
        ListingBinding.objects.filter(pk__in=seen).update(last_seen_at=now)
    ListingEvent.objects.bulk_create(
        [
            ListingEvent(
                merchant_id=store.merchant_id,
                store_id=store.pk,
                product_id=binding.product_id,
                sku=binding.sku,
                listing_id=binding.listing_id,
                kind=Kind.BOUND,
                trigger=trigger,
                quantity_after=binding.remote_quantity,
                message="Bound to the catalog product with this SKU.",
            )
            for binding in bound
        ],
        batch_size=1000,
    )
    return result


def binding_record_write(*, binding: ListingBinding, update: ListingUpdate, after: RemoteListing, trigger: str) -> None:
    """A write went through: the binding shows Back Market's answer, the log says what changed."""
    now = timezone.now()
    before_quantity, before_price = binding.remote_quantity, binding.remote_price
    _apply_remote(binding, after, now)
    if update.quantity is not None:
        binding.last_quantity_sent = update.quantity
        binding.remote_quantity = update.quantity if after.quantity is None else after.quantity
    if update.price is not None:
        binding.last_price_sent = update.price
        binding.last_currency = update.currency
        binding.remote_price = after.price if after.price is not None else update.price
    binding.last_sent_at = now
    binding.last_error, binding.last_error_at = "", None
    binding.deferred_reason, binding.deferred_since = "", None
    binding.save()
    listing_event(
        store=binding.store,
        binding=binding,
        kind=Kind.ZERO if binding.product_id is None else Kind.PUSH,
        trigger=trigger,
        quantity_before=before_quantity if update.quantity is not None else None,
        quantity_after=update.quantity,
        price_before=before_price if update.price is not None else None,
        price_after=update.price,
        currency=update.currency,
        message="Not in the catalog: set to 0." if binding.product_id is None else "",
    )


def binding_record_failure(
    *, binding: ListingBinding, update: ListingUpdate | None, message: str, trigger: str
) -> None:
    """A write was refused or failed; logged once per distinct message, so a run every 5 minutes does not
    flood the log with the same refusal."""
    repeated = binding.last_error == message
    binding.last_error, binding.last_error_at = message[:5000], timezone.now()
    binding.save(update_fields=["last_error", "last_error_at", "updated_at"])
    if not repeated:
        listing_event(
            store=binding.store,
            binding=binding,
            kind=Kind.FAILED,
            trigger=trigger,
            quantity_before=binding.remote_quantity,
            quantity_after=update.quantity if update else None,
            price_before=binding.remote_price,
            price_after=update.price if update else None,
            message=message,
        )


def binding_record_deferred(*, binding: ListingBinding, update: ListingUpdate, reason: str, trigger: str) -> None:
    first = binding.deferred_since is None
    binding.deferred_reason = reason[:200]
    binding.deferred_since = binding.deferred_since or timezone.now()
    binding.save(update_fields=["deferred_reason", "deferred_since", "updated_at"])
    if first:
        listing_event(
            store=binding.store,
            binding=binding,
            kind=Kind.DEFERRED,
            trigger=trigger,
            quantity_before=binding.remote_quantity,
            quantity_after=update.quantity,
            price_before=binding.remote_price,
            price_after=update.price,
            message=reason,
        )


def binding_record_buybox(*, binding: ListingBinding, winning: bool | None, price_to_win: Decimal | None) -> None:
    binding.buybox_winning, binding.buybox_price_to_win = winning, price_to_win
    binding.buybox_checked_at = timezone.now()
    binding.save(update_fields=["buybox_winning", "buybox_price_to_win", "buybox_checked_at", "updated_at"])
