"""Writes of the catalog API: a product changed by PUT /api/v1/products/{id}, stock moved by POST /api/v2/inventory.

Stock changes only through ``catalog.services.stock.stock_adjust``, which records the movements (reason
``MOVEMENT_REASON``, the API transaction in the note, no actor: the caller is an API key) and lets the listing
sync follow. Locks, always in this order: the product row (FOR NO KEY UPDATE, so inserts of stock movements and
allocations referencing it never wait on it), then every stock level of the product in primary-key order, as the
stock service itself takes them; so a decrement's check and its change see the same count.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import timezone

from orders.models import Warehouse
from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..models import Product, StockLevel
from ..models.stock import Reason
from .stock import (
    StockChange,
    default_warehouse_ids,
    products_by_sku,
    sku_key,
    stock_adjust,
    stock_allocate_for_skus,
)

# stock_adjust records every change as a manual adjustment (it takes no reason; Reason.API awaits one).
MOVEMENT_REASON = Reason.API
KEEP: Any = object()  # product_update_from_api: leave this field as it is
MAX_ON_HAND = 1_000_000_000  # well inside StockLevel's integer columns
COST_PLACES = Decimal("0.0001")  # Product.cost's decimals


def _taken(sku: str) -> ApplicationError:
    return ApplicationError(
        f"SKU {sku} is in the catalog already.", field_errors={"sku": ["Taken by another product."]}
    )


@transaction.atomic
def product_update_from_api(
    *,
    product: Product,
    sku: Any = KEEP,
    name: Any = KEEP,
    cost: Any = KEEP,
    weight_grams: Any = KEEP,
) -> Product:
    """Change what we keep of a product (``KEEP``: unchanged; None clears name, cost and weight).

    A new SKU (other than by case) re-matches open orders: lines with the old SKU let their units go, lines
    with the new one take theirs from this product.
    """
    locked = Product.objects.select_for_update(no_key=True).get(pk=product.pk)
    old_sku = locked.sku
    fields: list[str] = []
    if sku is not KEEP:
        sku = (sku or "").strip()
        if not sku:
            raise ApplicationError("A product needs a SKU.", field_errors={"sku": ["Required."]})
        if sku_key(sku) != sku_key(old_sku):
            others = Product.objects.annotate(sku_upper=Upper("sku")).filter(
                merchant_id=locked.merchant_id, sku_upper=sku_key(sku)
            )
            if others.exclude(pk=locked.pk).exists():
                raise _taken(sku)
        if sku != old_sku:
            locked.sku = sku
            fields.append("sku")
    for field, value in (("name", name), ("cost", cost), ("weight_grams", weight_grams)):
        if value is KEEP:
            continue
        if field == "name":
            value = value or ""
        if getattr(locked, field) != value:
            setattr(locked, field, value)
            fields.append(field)
    if not fields:
        return locked
    try:
        with transaction.atomic():
            locked.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:  # the SKU was taken meanwhile
        raise _taken(locked.sku) from exc
    if sku_key(old_sku) != sku_key(locked.sku):
        stock_allocate_for_skus(merchant_id=locked.merchant_id, skus=[old_sku, locked.sku])
    return locked


def _warehouse(merchant: Merchant, warehouse_id: int | None, field: str) -> Warehouse | None:
    """One of the merchant's warehouses; None: the default one, or None when the merchant has none."""
    if warehouse_id is None:
        default_id = default_warehouse_ids([merchant.pk]).get(merchant.pk)
        return None if default_id is None else Warehouse.objects.get(pk=default_id)
    found = Warehouse.objects.filter(merchant=merchant, pk=warehouse_id).first()
    if found is None:
        raise ApplicationError(
            f"No inventory location {warehouse_id} here.",
            field_errors={field: [f"Not one of your locations (your warehouses' ids): {warehouse_id}."]},
        )
    return found


def _place(warehouse: Warehouse | None) -> str:
    return "no warehouse" if warehouse is None else f"location {warehouse.pk}"


def _note(kind: str, reason: str, notes: str, effective_at: datetime | None) -> str:
    text = f"API {kind}"
    if reason:
        text += f": {reason}"
    if notes:
        text += f" ({notes})"
    if effective_at is not None:
        text += f", effective {effective_at.isoformat()}"
    return text


def _average_cost(old: Decimal | None, units_before: int, added: int, cost: Decimal) -> Decimal:
    before = max(units_before, 0)
    if old is None or before == 0:
        return cost.quantize(COST_PLACES)
    return ((old * before + cost * added) / (before + added)).quantize(COST_PLACES)


def _set_cost(product: Product, cost: Decimal) -> None:
    if product.cost != cost:
        Product.objects.filter(pk=product.pk).update(cost=cost, updated_at=timezone.now())
        product.cost = cost


@transaction.atomic
def inventory_update_from_api(
    *,
    merchant: Merchant,
    transaction_type: str,
    sku: str,
    quantity: int,
    location_id: int | None,
    cost: Decimal | None = None,
    new_cost: Decimal | None = None,
    new_location_id: int | None = None,
    reason: str = "",
    notes: str = "",
    effective_at: datetime | None = None,
) -> StockChange:
    """One ShipStation API v2 inventory transaction on one SKU at one location (a warehouse; None: the default).

    increment / decrement: on hand +/- ``quantity`` (a decrement below 0 is refused whole); adjust: on hand set to
    ``quantity``; modify: ``new_cost`` becomes the SKU's cost, ``new_location_id`` receives ``quantity`` units
    from the location. ``cost``: unit cost of the units added, averaged into the SKU's cost.
    """
    found = products_by_sku([merchant.pk], [sku]).get((merchant.pk, sku_key(sku)))
    if found is None:
        raise ApplicationError(f"SKU {sku} is not in your catalog.", field_errors={"sku": [f"Unknown SKU: {sku}."]})
    product = Product.objects.select_for_update(no_key=True).get(pk=found)
    warehouse = _warehouse(merchant, location_id, "inventory_location_id")
    levels = list(StockLevel.objects.select_for_update().filter(product=product).order_by("pk"))
    here = next((level for level in levels if level.warehouse_id == (warehouse.pk if warehouse else None)), None)
    on_hand = here.on_hand if here else 0
    total = sum(level.on_hand for level in levels)
    note = _note(transaction_type, reason, notes, effective_at)
    change = StockChange()

    if transaction_type in ("increment", "adjust"):
        target = on_hand + quantity if transaction_type == "increment" else quantity
        if target > MAX_ON_HAND:
            raise ApplicationError(
                f"On hand cannot exceed {MAX_ON_HAND}.", field_errors={"quantity": [f"At most {MAX_ON_HAND} on hand."]}
            )
        added = target - on_hand
        if cost is not None and added > 0:
            _set_cost(product, _average_cost(product.cost, total, added, cost))
        if transaction_type == "increment":
            change = stock_adjust(
                product=product, change=quantity, warehouse=warehouse, note=note, reason=MOVEMENT_REASON
            )
        elif added:  # a count it has already changes nothing
            change = stock_adjust(
                product=product, on_hand=quantity, warehouse=warehouse, note=note, reason=MOVEMENT_REASON
            )
    elif transaction_type == "decrement":
        if on_hand < quantity:
            raise ApplicationError(
                f"Only {on_hand} x {product.sku} on hand at {_place(warehouse)}: nothing was removed.",
                field_errors={"quantity": [f"More than the {on_hand} on hand at {_place(warehouse)}."]},
            )
        change = stock_adjust(product=product, change=-quantity, warehouse=warehouse, note=note, reason=MOVEMENT_REASON)
    elif transaction_type == "modify":
        if new_cost is not None:
            _set_cost(product, new_cost.quantize(COST_PLACES))
        if new_location_id is not None:
            target = _warehouse(merchant, new_location_id, "new_inventory_location_id")
            if target == warehouse:
                raise ApplicationError(
                    "The inventory is at that location already.",
                    field_errors={"new_inventory_location_id": ["The same as inventory_location_id."]},
                )
            if on_hand < quantity:
                raise ApplicationError(
                    f"Only {on_hand} x {product.sku} on hand at {_place(warehouse)}: nothing was moved.",
                    field_errors={"quantity": [f"More than the {on_hand} on hand at {_place(warehouse)}."]},
                )
            there = next((level.on_hand for level in levels if level.warehouse_id == target.pk), 0)
            if there + quantity > MAX_ON_HAND:
                raise ApplicationError(
                    f"On hand cannot exceed {MAX_ON_HAND}.",
                    field_errors={"quantity": [f"At most {MAX_ON_HAND} on hand."]},
                )
            moved = f"{note}: moved {quantity} from {_place(warehouse)} to {_place(target)}"
            change = stock_adjust(
                product=product, change=-quantity, warehouse=warehouse, note=moved, reason=MOVEMENT_REASON
            )
            change |= stock_adjust(
                product=product, change=quantity, warehouse=target, note=moved, reason=MOVEMENT_REASON
            )
    else:
        raise ApplicationError(
            f"Unknown transaction type {transaction_type!r}.",
            field_errors={"transaction_type": ["increment, decrement, adjust or modify."]},
        )
    return change
