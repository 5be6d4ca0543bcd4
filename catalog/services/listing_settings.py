"""The merchant's listing choices: a store's sync switches and a product's Back Market settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from shipping.core.errors import ApplicationError

from ..models import ListingSettings, ListingSync, Product
from ..models.listing import MIN_WARRANTY_MONTHS, backmarket_id_clean
from .listing_push import listing_push_request

# The fields that change what a listing should show; saving them makes the listing due for a push.
PUSHED_FIELDS = frozenset({"enabled", "safety_quantity", "price"})


@transaction.atomic
def listing_sync_configure(
    *,
    store: Any,
    mode: str | None = None,
    repricer: bool | None = None,
    create_listings: bool | None = None,
) -> ListingSync:
    """Set a store's listing sync switches; turning the sync on makes every product with settings due."""
    sync, _ = ListingSync.objects.select_for_update().get_or_create(store=store)
    was_off = sync.mode == ListingSync.Mode.OFF
    if mode is not None:
        if mode not in ListingSync.Mode.values:
            raise ApplicationError(
                f"Unknown listing sync mode {mode!r}.",
                field_errors={"mode": [f"Choose one of {', '.join(ListingSync.Mode.values)}."]},
            )
        sync.mode = mode
    if repricer is not None:
        sync.repricer = repricer
    if create_listings is not None:
        sync.create_listings = create_listings
    sync.save()
    if was_off and sync.mode != ListingSync.Mode.OFF:
        product_ids = ListingSettings.objects.filter(store=store).values_list("product_id", flat=True)
        listing_push_request(product_ids=list(product_ids), store_id=store.pk)
    return sync


@transaction.atomic
def listing_settings_save(
    *,
    store: Any,
    product: Product,
    enabled: bool,
    safety_quantity: int = 0,
    price: Decimal | None = None,
    min_price: Decimal | None = None,
    backmarket_id: str = "",
    grade: int | None = None,
    warranty_months: int = MIN_WARRANTY_MONTHS,
) -> ListingSettings:
    """Create or replace one product's settings in one store (the product page's form)."""
    if store.merchant_id != product.merchant_id:
        raise ApplicationError("No such store.", field_errors={"store": ["Not one of yours."]})
    errors: dict[str, list[str]] = {}
    if safety_quantity < 0:
        errors["safety_quantity"] = ["Not below 0."]
    if price is not None and price < 0:
        errors["price"] = ["Not below 0."]
    if min_price is not None and min_price < 0:
        errors["min_price"] = ["Not below 0."]
    if price is not None and min_price is not None and min_price > price:
        errors["min_price"] = ["The minimum price cannot be above the default price."]
    if grade is not None and not 0 <= grade <= 4:
        errors["grade"] = ["0 (Mint/Excellent) to 4 (Stallone)."]
    if warranty_months < MIN_WARRANTY_MONTHS:
        errors["warranty_months"] = [f"Back Market requires at least {MIN_WARRANTY_MONTHS} months."]
    if backmarket_id:
        try:
            backmarket_id = backmarket_id_clean(backmarket_id)
        except ValueError as exc:
            errors["backmarket_id"] = [str(exc)]
    if errors:
        raise ApplicationError("Please correct the listing settings.", field_errors=errors)
    values = {
        "enabled": enabled,
        "safety_quantity": safety_quantity,
        "price": price,
        "min_price": min_price,
        "backmarket_id": backmarket_id,
        "grade": grade,
        "warranty_months": warranty_months,
    }
    settings = ListingSettings.objects.select_for_update().filter(store=store, product=product).first()
    changed = settings is None or any(getattr(settings, name) != values[name] for name in PUSHED_FIELDS)
    if settings is None:
        settings = ListingSettings(store=store, product=product)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()
    if changed:
        listing_push_request(product_ids=[product.pk], store_id=store.pk)
    return settings
