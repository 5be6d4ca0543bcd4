"""Creating products one at a time (the CSV upsert is ``products_csv``)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..models import Product
from .stock import sku_key, stock_allocate_for_skus


@transaction.atomic
def product_create(
    *,
    merchant: Merchant,
    sku: str,
    name: str = "",
    image_url: str = "",
    weight_grams: Decimal | None = None,
    cost: Decimal | None = None,
    actor: AbstractBaseUser | None = None,
) -> Product:
    """A new product; open orders already carrying its SKU take their units from it at once."""
    sku = (sku or "").strip()
    if not sku:
        raise ApplicationError("A product needs a SKU.", field_errors={"sku": ["Required."]})
    if len(sku) > Product._meta.get_field("sku").max_length:
        raise ApplicationError("A SKU has at most 100 characters.", field_errors={"sku": ["Too long."]})
    taken = Product.objects.annotate(sku_upper=Upper("sku")).filter(merchant=merchant, sku_upper=sku_key(sku))
    if taken.exists():
        raise ApplicationError(f"SKU {sku} is in the catalog already.", field_errors={"sku": ["Taken."]})
    try:
        with transaction.atomic():
            product = Product.objects.create(
                merchant=merchant, sku=sku, name=name, image_url=image_url, weight_grams=weight_grams, cost=cost
            )
    except IntegrityError as exc:  # created meanwhile by someone else
        raise ApplicationError(f"SKU {sku} is in the catalog already.", field_errors={"sku": ["Taken."]}) from exc
    stock_allocate_for_skus(merchant_id=merchant.pk, skus=[sku], actor=actor)
    return product
