"""Reads for the API, scoped to the key's merchant, each a constant number of queries whatever the page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.functions import Upper

from orders.models import Warehouse
from shipping.accounts.models import Merchant

from ..models import Product, StockLevel
from ..services.stock import sku_key

PRODUCT_SORT = {"SKU": "sku", "ModifyDate": "updated_at", "CreateDate": "created_at"}


def api_product_list(
    *,
    merchant: Merchant,
    sku: str = "",
    name: str = "",
    created_start: datetime | None = None,
    created_end: datetime | None = None,
    sort_by: str = "",
    sort_dir: str = "ASC",
) -> QuerySet[Product]:
    """GET /products: ``sku`` is one SKU (any case), ``name`` a part of the name."""
    qs = Product.objects.filter(merchant=merchant)
    if sku.strip():
        qs = qs.annotate(sku_upper=Upper("sku")).filter(sku_upper=sku_key(sku))
    if name:
        qs = qs.filter(name__icontains=name)
    if created_start is not None:
        qs = qs.filter(created_at__gte=created_start)
    if created_end is not None:
        qs = qs.filter(created_at__lte=created_end)
    column = F(PRODUCT_SORT.get(sort_by, "sku"))
    order = column.desc() if sort_dir == "DESC" else column.asc()
    return qs.order_by(order, "pk" if sort_dir != "DESC" else "-pk")


def api_product_get(*, merchant: Merchant, product_id: int) -> Product:
    """One of the merchant's products (Product.DoesNotExist, so a 404, for anyone else's)."""
    return Product.objects.get(merchant=merchant, pk=product_id)


def api_warehouses_exist(*, merchant: Merchant, warehouse_ids: Iterable[int]) -> set[int]:
    """Which of these ids are the merchant's warehouses."""
    ids = set(warehouse_ids)
    if not ids:
        return set()
    return set(Warehouse.objects.filter(merchant=merchant, pk__in=ids).values_list("pk", flat=True))


def api_inventory_levels(
    *, merchant: Merchant, skus: Iterable[str] = (), warehouse_ids: Iterable[int] = ()
) -> QuerySet[StockLevel]:
    """GET /v2/inventory: stock levels by SKU then warehouse; ``skus`` any case, ``warehouse_ids`` all must match."""
    qs = StockLevel.objects.filter(product__merchant=merchant).select_related("product")
    keys = {sku_key(sku) for sku in skus if sku.strip()}
    if keys:
        qs = qs.annotate(sku_upper=Upper("product__sku")).filter(sku_upper__in=keys)
    for warehouse_id in set(warehouse_ids):
        qs = qs.filter(warehouse_id=warehouse_id)
    return qs.order_by("product__sku", "product_id", F("warehouse_id").asc(nulls_first=True), "pk")
