"""What each listing should show: the quantity (and price) the merchant's catalog asks for, per store.

The rule is SellerCloud's: an enabled product shows ``max(0, available - safety quantity)``; a disabled
product, or one without settings for the store, shows 0; a SKU the catalog does not know shows 0 too
(the caller decides that: it has no target here). Prices follow the default price only when the store's
mode is "prices and quantities" and the repricer is off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from .models import ListingSettings, ListingSync, Product, StockLevel


@dataclass(frozen=True, slots=True)
class ListingTarget:
    product_id: int
    sku: str
    quantity: int
    price: Decimal | None  # None: prices are not ours to send
    enabled: bool
    available: int


def quantity_to_list(*, available: int, safety_quantity: int, enabled: bool) -> int:
    return max(0, available - safety_quantity) if enabled else 0


def listing_targets(
    *, store_id: int, merchant_id: int, product_ids: Iterable[int] | None = None
) -> dict[int, ListingTarget]:
    """product id -> target, for the merchant's products (or these ones). Three queries."""
    sync = ListingSync.objects.filter(store_id=store_id).first()
    sends_prices = bool(sync and sync.sends_prices)
    products = Product.objects.filter(merchant_id=merchant_id)
    levels = StockLevel.objects.filter(product__merchant_id=merchant_id)
    settings = ListingSettings.objects.filter(store_id=store_id, product__merchant_id=merchant_id)
    if product_ids is not None:
        ids = list(set(product_ids))
        products, levels, settings = (
            products.filter(pk__in=ids),
            levels.filter(product_id__in=ids),
            settings.filter(product_id__in=ids),
        )
    available = dict(
        levels.values("product_id").annotate(n=Sum(F("on_hand") - F("allocated"))).values_list("product_id", "n")
    )
    by_product = {row.product_id: row for row in settings}
    targets = {}
    for product_id, sku in products.values_list("pk", "sku"):
        row = by_product.get(product_id)
        enabled = bool(row and row.enabled)
        have = int(available.get(product_id) or 0)
        targets[product_id] = ListingTarget(
            product_id=product_id,
            sku=sku,
            quantity=quantity_to_list(
                available=have, safety_quantity=row.safety_quantity if row else 0, enabled=enabled
            ),
            price=row.price if (sends_prices and enabled and row is not None) else None,
            enabled=enabled,
            available=have,
        )
    return targets
