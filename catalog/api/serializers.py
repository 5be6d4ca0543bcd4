"""Requests and response shapes of /api/v1/products and /api/v2/inventory (responses: schema only, the
presenters build the JSON and a test keeps both identical).

API v1's product is ShipStation's Product model (docs.shipstation.com/apis/shipstation-v1/docs/models/product);
API v2's inventory level and update body are ShipStation API v2's ``getInventoryLevels`` and
``updateSkuStockLevels`` (docs.shipstation.com/openapi/inventory).
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from orders.api.fields import ApiDateTimeField, LooseChoiceField, Money
from orders.api.serializers import MAX_ID, PagingQuery, QuerySerializer, number_or_null, text_or_null

from .presenters import COST_CURRENCY

SKU_MAX = 100  # Product.sku
MAX_QUANTITY = 1_000_000  # units in one inventory transaction
MAX_WEIGHT_OZ = 1_000_000
MAX_MONEY = Decimal(10**10)  # inside Product.cost (14 digits, 4 decimals)
CONDITIONS = ["sellable", "damaged", "expired", "qa_hold"]
TRANSACTION_TYPES = ["increment", "decrement", "adjust", "modify"]


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _text(max_length: int = 200, **kwargs) -> serializers.CharField:
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=max_length, **kwargs)


def _number(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True, **kwargs)


# --- API v1: products ----------------------------------------------------------------------------


class ProductListQuery(PagingQuery):
    sku = serializers.CharField(required=False, max_length=SKU_MAX, help_text="The product with this SKU (any case).")
    name = serializers.CharField(required=False, max_length=500, help_text="Products whose name contains this.")
    productCategoryId = _id(required=False, help_text="We keep no product categories: matches nothing.")
    productTypeId = _id(required=False, help_text="We keep no product types: matches nothing.")
    tagId = _id(required=False, help_text="We keep no product tags: matches nothing.")
    startDate = ApiDateTimeField(required=False, help_text="Created at or after (Pacific time unless an offset).")
    endDate = ApiDateTimeField(required=False, help_text="Created at or before.")
    showInactive = serializers.BooleanField(required=False, default=False, help_text="Every product here is active.")
    sortBy = LooseChoiceField(choices=["SKU", "ModifyDate", "CreateDate"], required=False, help_text="Default: SKU.")


class ProductCategory(serializers.Serializer):
    categoryId = serializers.IntegerField(required=False, allow_null=True)
    name = _text()


class ProductTag(serializers.Serializer):
    tagId = serializers.IntegerField(required=False, allow_null=True)
    name = _text()


class ProductUpdate(serializers.Serializer):
    """PUT /products/{productId}: ShipStation's whole product. What we keep (sku, name, defaultCost, weightOz) is
    updated; a field left out keeps its value, null clears it. The rest is accepted and ignored."""

    productId = _id(required=False, allow_null=True, help_text="When given, the id in the URL.")
    sku = serializers.CharField(required=False, max_length=SKU_MAX, help_text="Renaming re-matches open orders.")
    name = _text(500)
    price = Money(required=False, allow_null=True, min_value=0, max_value=MAX_MONEY, help_text="Ignored.")
    defaultCost = Money(required=False, allow_null=True, min_value=0, max_value=MAX_MONEY)
    length = _number(min_value=0, help_text="Ignored.")
    width = _number(min_value=0, help_text="Ignored.")
    height = _number(min_value=0, help_text="Ignored.")
    weightOz = Money(required=False, allow_null=True, min_value=0, max_value=MAX_WEIGHT_OZ, help_text="Ounces.")
    internalNotes = _text(10_000)
    fulfillmentSku = _text()
    createDate = _text(help_text="Read-only; ignored.")
    modifyDate = _text(help_text="Read-only; ignored.")
    active = serializers.BooleanField(required=False, allow_null=True, help_text="Products cannot be deactivated.")
    aliases = serializers.JSONField(required=False, allow_null=True, help_text="Ignored.")
    productCategory = ProductCategory(required=False, allow_null=True, help_text="Ignored.")
    productType = _text()
    warehouseLocation = _text()
    defaultCarrierCode = _text()
    defaultServiceCode = _text()
    defaultPackageCode = _text()
    defaultIntlCarrierCode = _text()
    defaultIntlServiceCode = _text()
    defaultIntlPackageCode = _text()
    defaultConfirmation = _text()
    defaultIntlConfirmation = _text()
    customsDescription = _text()
    customsValue = Money(required=False, allow_null=True, min_value=0, max_value=MAX_MONEY, help_text="Ignored.")
    customsTariffNo = _text()
    customsCountryCode = _text(2)
    noCustoms = serializers.BooleanField(required=False, allow_null=True)
    tags = ProductTag(many=True, required=False, allow_null=True, help_text="Ignored.")

    def validate_sku(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A product needs a SKU.")
        return value.strip()

    def validate_active(self, value: bool | None) -> bool | None:
        if value is False:
            raise serializers.ValidationError("Products cannot be deactivated through the API.")
        return value


class Product(serializers.Serializer):
    aliases = serializers.JSONField(allow_null=True)
    productId = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    price = number_or_null()
    defaultCost = number_or_null()
    length = number_or_null()
    width = number_or_null()
    height = number_or_null()
    weightOz = number_or_null()
    internalNotes = text_or_null()
    fulfillmentSku = text_or_null()
    createDate = text_or_null()
    modifyDate = text_or_null()
    active = serializers.BooleanField()
    productCategory = ProductCategory(allow_null=True)
    productType = text_or_null()
    warehouseLocation = text_or_null()
    defaultCarrierCode = text_or_null()
    defaultServiceCode = text_or_null()
    defaultPackageCode = text_or_null()
    defaultIntlCarrierCode = text_or_null()
    defaultIntlServiceCode = text_or_null()
    defaultIntlPackageCode = text_or_null()
    defaultConfirmation = text_or_null()
    defaultIntlConfirmation = text_or_null()
    customsDescription = text_or_null()
    customsValue = number_or_null()
    customsTariffNo = text_or_null()
    customsCountryCode = text_or_null()
    noCustoms = serializers.BooleanField(allow_null=True)
    tags = ProductTag(many=True, allow_null=True)


class ProductList(serializers.Serializer):
    products = Product(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


# --- API v2: inventory ---------------------------------------------------------------------------


class WarehouseIdField(serializers.CharField):
    """An inventory warehouse or location id: our warehouse's id, as a string ("12"); a number is taken too."""

    default_error_messages = {"not_an_id": "Not an inventory warehouse or location id (a number, as a string)."}
    MAX_LENGTH = 20  # checked here: the validators would see the number this field returns

    def to_internal_value(self, data):
        text = super().to_internal_value(data).strip()
        if len(text) > self.MAX_LENGTH or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
            self.fail("not_an_id")
        return int(text)


class InventoryQuery(QuerySerializer):
    sku = serializers.CharField(required=False, max_length=5000, help_text="One SKU, or several separated by commas.")
    inventory_warehouse_id = WarehouseIdField(required=False, help_text="One of your warehouses' ids.")
    inventory_location_id = WarehouseIdField(
        required=False, help_text="A location id: each warehouse is one location, with the warehouse's id."
    )
    group_by = serializers.ChoiceField(
        choices=["warehouse", "location"],
        required=False,
        help_text="Either gives one row per SKU and warehouse: a warehouse is one location here.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100, help_text="Per page.")
    page = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, default=1)


class MonetaryValueInput(serializers.Serializer):
    amount = Money(min_value=0, max_value=MAX_MONEY)
    currency = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=3,
        help_text=f"{COST_CURRENCY} (costs are kept in it).",
    )

    def validate_currency(self, value: str | None) -> str:
        if value and value.lower() != COST_CURRENCY:
            raise serializers.ValidationError(f"Costs are kept in {COST_CURRENCY.upper()} only.")
        return COST_CURRENCY


def _condition(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=CONDITIONS, required=False, allow_null=True, **kwargs)


class InventoryUpdate(serializers.Serializer):
    transaction_type = serializers.ChoiceField(
        choices=TRANSACTION_TYPES,
        help_text="increment / decrement: on hand up / down by quantity (a decrement below 0 is refused whole); "
        "adjust: on hand set to quantity; modify: new_cost sets the SKU's cost, new_inventory_location_id moves "
        "quantity units there.",
    )
    inventory_location_id = WarehouseIdField(
        allow_null=True, help_text="A warehouse's id (a warehouse is one location); null: your default warehouse."
    )
    sku = serializers.CharField(max_length=SKU_MAX, help_text="A SKU of your catalog (any case).")
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    cost = MonetaryValueInput(
        required=False, allow_null=True, help_text="Unit cost of the units added: the SKU's average cost follows."
    )
    condition = _condition(help_text="Only sellable stock is kept.")
    lot = _text(100, help_text="No lot tracking: ignored.")
    usable_start_date = serializers.DateTimeField(required=False, allow_null=True, help_text="Ignored.")
    usable_end_date = serializers.DateTimeField(required=False, allow_null=True, help_text="Ignored.")
    effective_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Kept in the movement's note; the movement is dated now."
    )
    reason = _text(100, help_text="Kept in the movement's note.")
    notes = _text(300, help_text="Kept in the movement's note.")
    new_inventory_location_id = WarehouseIdField(required=False, allow_null=True, help_text="modify: move here.")
    new_cost = MonetaryValueInput(required=False, allow_null=True, help_text="modify: the SKU's new unit cost.")
    # Not a ChoiceField: the same choice set as condition's would need a settings override to name its enum.
    new_condition = _text(20, help_text="modify: sellable, damaged, expired or qa_hold; only sellable stock is kept.")

    def validate_sku(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Name a SKU.")
        return value.strip()

    def validate(self, data: dict) -> dict:
        errors: dict[str, list[str]] = {}
        kind = data["transaction_type"]
        if data.get("new_condition") and data["new_condition"] not in CONDITIONS:
            errors["new_condition"] = [f"One of {', '.join(CONDITIONS)}."]
        for name in ("condition", "new_condition"):
            if data.get(name) not in (None, "", "sellable"):
                errors.setdefault(name, ["Only sellable stock is kept here: record other stock elsewhere."])
        if kind in ("increment", "decrement") and data["quantity"] < 1:
            errors["quantity"] = [f"A {kind} needs a quantity of 1 or more."]
        if kind != "modify":
            for name in ("new_inventory_location_id", "new_cost"):
                if data.get(name) is not None:
                    errors[name] = ["Only with transaction_type modify."]
        else:
            moving = data.get("new_inventory_location_id") is not None
            if not moving and data.get("new_cost") is None:
                errors["transaction_type"] = ["A modify needs new_cost or new_inventory_location_id."]
            if moving and data["quantity"] < 1:
                errors["quantity"] = ["Moving inventory needs a quantity of 1 or more."]
            if data.get("cost") is not None:
                errors["cost"] = ["A modify changes the cost with new_cost."]
        if kind == "decrement" and data.get("cost") is not None:
            errors["cost"] = ["A decrement takes no cost."]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class MonetaryValue(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.FloatField()


class InventoryLevel(serializers.Serializer):
    sku = serializers.CharField()
    on_hand = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()
    average_cost = MonetaryValue(allow_null=True, help_text="null: the SKU has no cost yet.")
    inventory_warehouse_id = text_or_null(
        help_text="The warehouse's id; null for stock counted before you had a warehouse."
    )
    inventory_location_id = text_or_null(help_text="The same id: a warehouse is one location here.")


class Link(serializers.Serializer):
    href = serializers.CharField(required=False)


class PageLinks(serializers.Serializer):
    first = Link()
    last = Link()
    prev = Link(help_text="{} on the first page.")
    next = Link(help_text="{} on the last page.")


class InventoryList(serializers.Serializer):
    inventory = InventoryLevel(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    links = PageLinks()


class V2Error(serializers.Serializer):
    error_source = serializers.CharField()
    error_type = serializers.CharField()
    error_code = serializers.CharField()
    message = serializers.CharField()
    field_name = serializers.CharField(required=False, help_text="On field errors: the field at fault.")


class V2ErrorResponse(serializers.Serializer):
    request_id = serializers.UUIDField()
    errors = V2Error(many=True)
