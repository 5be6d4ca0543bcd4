"""Reads of the catalog and its stock, scoped to the merchant; each a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet, Sum

from orders.models import Order, OrderLine
from shipping.accounts.models import Merchant

from .models import Product, StockLevel, StockMovement
from .services.stock import products_by_sku, sku_key


def catalog_in_use(*, merchant_id: int) -> bool:
    """Whether the merchant keeps a catalog at all (without products, stock is not tracked)."""
    return Product.objects.filter(merchant_id=merchant_id).exists()


def product_list(*, merchant: Merchant) -> QuerySet[Product]:
    return Product.objects.filter(merchant=merchant).prefetch_related("stock_levels__warehouse")


def stock_available(*, merchant: Merchant, product_ids: Iterable[int]) -> dict[int, int]:
    """Available (on hand - allocated, over every warehouse) per product; 0 for a product without stock rows."""
    ids = set(product_ids)
    rows = (
        StockLevel.objects.filter(product__merchant=merchant, product_id__in=ids)
        .values("product_id")
        .annotate(on_hand=Sum("on_hand"), allocated=Sum("allocated"))
    )
    available = dict.fromkeys(ids, 0)
    available.update({row["product_id"]: row["on_hand"] - row["allocated"] for row in rows})
    return available


def stock_movements(*, merchant: Merchant, product_id: int | None = None) -> QuerySet[StockMovement]:
    movements = StockMovement.objects.filter(merchant=merchant).select_related("product", "warehouse", "order")
    return movements.filter(product_id=product_id) if product_id is not None else movements


def _lines(merchant: Merchant, order_ids: Iterable[int]) -> list[OrderLine]:
    return list(
        OrderLine.objects.filter(order__merchant=merchant, order_id__in=set(order_ids), is_adjustment=False)
        .filter(removed_at__isnull=True)
        .only("id", "order_id", "sku")
        .order_by("order_id", "id")
    )


def order_lines_unknown_sku(*, merchant: Merchant, order_ids: Iterable[int]) -> dict[int, set[int]]:
    """{order id: ids of its lines whose SKU is not in the catalog (or that have no SKU)}: two queries.

    Computed, never stored: a SKU added to the catalog clears the flag at once. Adjustment lines and
    lines the marketplace removed are not products and are never flagged.
    """
    lines = _lines(merchant, order_ids)
    known = products_by_sku([merchant.pk], (line.sku for line in lines))
    unknown: dict[int, set[int]] = defaultdict(set)
    for line in lines:
        if not line.sku.strip() or (merchant.pk, sku_key(line.sku)) not in known:
            unknown[line.order_id].add(line.pk)
    return dict(unknown)


def unknown_skus_for_orders(*, merchant: Merchant, order_ids: Iterable[int]) -> dict[int, list[str]]:
    """{order id: the SKUs of its lines that are not in the catalog, in line order} for the orders that have any.

    A line without a SKU shows as "(no SKU)".
    """
    lines = _lines(merchant, order_ids)
    known = products_by_sku([merchant.pk], (line.sku for line in lines))
    unknown: dict[int, list[str]] = defaultdict(list)
    for line in lines:
        sku = line.sku.strip()
        label = sku or "(no SKU)"
        if (not sku or (merchant.pk, sku_key(sku)) not in known) and label not in unknown[line.order_id]:
            unknown[line.order_id].append(label)
    return {order_id: skus for order_id, skus in unknown.items() if skus}


def unknown_skus_for_order(*, order: Order) -> list[str]:
    """The SKUs of the order's lines that are not in its merchant's catalog (the order page's flag)."""
    return unknown_skus_for_orders(merchant=order.merchant, order_ids=[order.pk]).get(order.pk, [])
