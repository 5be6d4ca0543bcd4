"""Ship-from warehouses: the address printed on labels; one of them is the default."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..models import Warehouse


@transaction.atomic
def warehouse_save(*, merchant: Merchant, data: dict[str, Any], warehouse: Warehouse | None = None) -> Warehouse:
    """Create or update; the first warehouse, or one saved as default, becomes the only default."""
    warehouse = warehouse or Warehouse(merchant=merchant)
    if warehouse.merchant_id != merchant.pk:
        raise ApplicationError("No such warehouse.")
    for field, value in data.items():
        setattr(warehouse, field, value)
    is_first = not Warehouse.objects.filter(merchant=merchant).exclude(pk=warehouse.pk).exists()
    if warehouse.is_default or is_first:
        Warehouse.objects.filter(merchant=merchant, is_default=True).exclude(pk=warehouse.pk).update(is_default=False)
        warehouse.is_default = True
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "A warehouse with this name exists already.", field_errors={"name": ["This name is taken."]}
        ) from exc
    return warehouse
