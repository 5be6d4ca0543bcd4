"""Request validation and response shapes of the ShipStation-compatible API (reference §2.3).

Request serializers only validate and convert (no saving). Response serializers describe what the
presenters return, for the OpenAPI schema; tests/api/test_shapes.py keeps both identical.
"""

from __future__ import annotations

from rest_framework import serializers

from ..statuses import OrderStatus
from .fields import ApiDateField, ApiDateTimeField, LooseChoiceField, Money

MAX_ID = 2**63 - 1
ORDER_STATUSES = [*OrderStatus.values, "pending_fulfillment", "rejected_fulfillment"]
WEIGHT_UNITS = ["pounds", "ounces", "grams"]
DIMENSION_UNITS = ["inches", "centimeters"]
CONFIRMATIONS = ["none", "delivery", "signature", "adult_signature", "direct_signature"]


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _text(max_length: int = 200, **kwargs) -> serializers.CharField:
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=max_length, **kwargs)


# --- query strings -------------------------------------------------------------------------------


class QuerySerializer(serializers.Serializer):
    """Query strings: an empty parameter (?storeId=) means "not given", as ShipStation treats it."""

    def to_internal_value(self, data):
        return super().to_internal_value({key: value for key, value in data.items() if value not in ("", None)})


class PagingQuery(QuerySerializer):
    sortDir = LooseChoiceField(choices=["ASC", "DESC"], required=False, default="ASC")
    page = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, default=1)
    pageSize = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)


class OrderListQuery(PagingQuery):
    customerName = serializers.CharField(required=False, max_length=200)
    itemKeyword = serializers.CharField(required=False, max_length=200)
    createDateStart = ApiDateTimeField(required=False)
    createDateEnd = ApiDateTimeField(required=False)
    modifyDateStart = ApiDateTimeField(required=False)
    modifyDateEnd = ApiDateTimeField(required=False)
    orderDateStart = ApiDateTimeField(required=False)
    orderDateEnd = ApiDateTimeField(required=False)
    paymentDateStart = ApiDateTimeField(required=False)
    paymentDateEnd = ApiDateTimeField(required=False)
    orderNumber = serializers.CharField(required=False, max_length=100, help_text="Starts with.")
    orderStatus = LooseChoiceField(choices=ORDER_STATUSES, required=False)
    storeId = _id(required=False)
    sortBy = LooseChoiceField(choices=["OrderDate", "ModifyDate", "CreateDate"], required=False)
    importBatch = serializers.CharField(required=False, max_length=64, help_text="From an ORDER_NOTIFY resource_url.")
    tagId = _id(required=False, help_text="Ours (some clients send it): only orders with this tag.")


class ListByTagQuery(QuerySerializer):
    """GET /orders/listbytag. ShipStation requires orderStatus; here it is optional (any status)."""

    orderStatus = LooseChoiceField(
        choices=ORDER_STATUSES, required=False, help_text="ShipStation requires it; here, without it: any status."
    )
    tagId = _id()
    page = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, default=1)
    pageSize = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)


class ShipmentListQuery(PagingQuery):
    recipientName = serializers.CharField(required=False, max_length=200)
    recipientCountryCode = serializers.CharField(required=False, max_length=2)
    orderNumber = serializers.CharField(required=False, max_length=100)
    orderId = _id(required=False)
    carrierCode = serializers.CharField(required=False, max_length=50)
    serviceCode = serializers.CharField(required=False, max_length=100)
    trackingNumber = serializers.CharField(required=False, max_length=100)
    createDateStart = ApiDateTimeField(required=False)
    createDateEnd = ApiDateTimeField(required=False)
    shipDateStart = ApiDateTimeField(required=False)
    shipDateEnd = ApiDateTimeField(required=False)
    voidDateStart = ApiDateTimeField(required=False)
    voidDateEnd = ApiDateTimeField(required=False)
    storeId = _id(required=False)
    includeShipmentItems = serializers.BooleanField(required=False, default=False)
    sortBy = LooseChoiceField(choices=["ShipDate", "CreateDate"], required=False)
    batchId = serializers.CharField(required=False, max_length=64, help_text="From a SHIP_NOTIFY resource_url.")


class CarrierQuery(QuerySerializer):
    carrierCode = serializers.CharField(max_length=50)


# --- request bodies ------------------------------------------------------------------------------


class AddressInput(serializers.Serializer):
    name = _text()
    company = _text()
    street1 = _text()
    street2 = _text()
    street3 = _text()
    city = _text(100)
    state = _text(100)
    postalCode = _text(50)
    country = _text(2, help_text="Two-letter ISO country code.")
    phone = _text(50)
    residential = serializers.BooleanField(required=False, allow_null=True, default=None)
    addressVerified = _text(help_text="Read-only; ignored.")


# Bounds keep converted values inside their columns (grams: 12 digits, dimensions: 8).
class WeightInput(serializers.Serializer):
    value = Money(min_value=0, max_value=1_000_000, allow_null=True, required=False)
    units = LooseChoiceField(choices=WEIGHT_UNITS, required=False, allow_null=True, default="ounces")
    WeightUnits = serializers.IntegerField(required=False, allow_null=True, help_text="Read-only; ignored.")


class DimensionsInput(serializers.Serializer):
    length = Money(min_value=0, max_value=100_000, allow_null=True, required=False)
    width = Money(min_value=0, max_value=100_000, allow_null=True, required=False)
    height = Money(min_value=0, max_value=100_000, allow_null=True, required=False)
    units = LooseChoiceField(choices=DIMENSION_UNITS, required=False, allow_null=True, default="inches")


class OptionInput(serializers.Serializer):
    name = _text()
    value = _text(1000)


class ItemInput(serializers.Serializer):
    orderItemId = serializers.IntegerField(required=False, allow_null=True, help_text="Read-only; ignored.")
    lineItemKey = _text(100)
    sku = _text(100)
    name = _text(500)
    imageUrl = _text(1000)
    weight = WeightInput(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, default=1)
    unitPrice = Money(required=False, allow_null=True)
    taxAmount = Money(required=False, allow_null=True)
    shippingAmount = Money(required=False, allow_null=True)
    warehouseLocation = _text(100)
    options = OptionInput(many=True, required=False, allow_null=True)
    productId = serializers.IntegerField(required=False, allow_null=True)
    fulfillmentSku = _text()
    adjustment = serializers.BooleanField(required=False, default=False)
    upc = _text(50)


class AdvancedOptionsInput(serializers.Serializer):
    warehouseId = serializers.IntegerField(required=False, allow_null=True)
    storeId = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_ID)
    customField1 = _text()
    customField2 = _text()
    customField3 = _text()
    source = _text(100)


class OrderInput(serializers.Serializer):
    """POST /orders/createorder: the whole order (upsert by orderKey)."""

    orderId = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    orderNumber = serializers.CharField(max_length=100)
    orderKey = _text(100)
    orderDate = ApiDateTimeField()
    paymentDate = ApiDateTimeField(required=False, allow_null=True)
    shipByDate = ApiDateTimeField(required=False, allow_null=True)
    orderStatus = LooseChoiceField(choices=ORDER_STATUSES[:-1])
    customerId = serializers.IntegerField(required=False, allow_null=True, help_text="Read-only; ignored.")
    customerUsername = _text()
    customerEmail = _text(254)
    billTo = AddressInput(required=False, allow_null=True)
    shipTo = AddressInput()
    items = ItemInput(many=True, required=False, allow_null=True)
    amountPaid = Money(required=False, allow_null=True)
    taxAmount = Money(required=False, allow_null=True)
    shippingAmount = Money(required=False, allow_null=True)
    customerNotes = _text(10_000)
    internalNotes = _text(10_000)
    gift = serializers.BooleanField(required=False, default=False)
    giftMessage = _text(10_000)
    paymentMethod = _text(100)
    requestedShippingService = _text()
    carrierCode = _text(50)
    serviceCode = _text(100)
    packageCode = _text(50)
    confirmation = LooseChoiceField(choices=CONFIRMATIONS, required=False, allow_null=True)
    shipDate = ApiDateField(required=False, allow_null=True)
    holdUntilDate = ApiDateField(required=False, allow_null=True)
    weight = WeightInput(required=False, allow_null=True)
    dimensions = DimensionsInput(required=False, allow_null=True)
    insuranceOptions = serializers.DictField(required=False, allow_null=True)
    internationalOptions = serializers.DictField(required=False, allow_null=True)
    advancedOptions = AdvancedOptionsInput(required=False, allow_null=True)
    tagIds = serializers.ListField(
        child=_id(),
        required=False,
        allow_null=True,
        max_length=100,
        help_text="The merchant's tag ids (GET /accounts/listtags): the order gets exactly these. "
        "Absent or null leaves its tags as they are; [] removes them all.",
    )

    def validate_orderStatus(self, value):
        if value == "pending_fulfillment":
            raise serializers.ValidationError("pending_fulfillment (3PL fulfilment) is not supported here.")
        return value

    def validate(self, attrs):
        # Totals the database columns can hold (14 digits, 4 decimals; grams 12 digits, 2 decimals).
        items = attrs.get("items") or []
        if any(item is None for item in items):
            raise serializers.ValidationError({"items": ["An item may not be null."]})
        total = sum((i.get("unitPrice") or 0) * (i.get("quantity") or 0) for i in items)
        total += (attrs.get("shippingAmount") or 0) + (attrs.get("taxAmount") or 0)
        if abs(total) >= 10**10:
            raise serializers.ValidationError({"items": ["The order total is too large."]})
        weights = [(i.get("weight") or {}, i.get("quantity") or 0) for i in items]
        ounces = sum((w.get("value") or 0) * q * (16 if w.get("units") == "pounds" else 1) for w, q in weights)
        if ounces >= 10**8:
            raise serializers.ValidationError({"items": ["The order weighs too much."]})
        for part in ("shipTo", "billTo"):
            country = (attrs.get(part) or {}).get("country")
            if country and (len(country) != 2 or not country.isalpha()):
                raise serializers.ValidationError({part: {"country": ["Use the two-letter ISO country code."]}})
        return attrs


class OrderIdInput(serializers.Serializer):
    orderId = _id()


class HoldUntilInput(OrderIdInput):
    holdUntilDate = ApiDateField()


class MarkShippedInput(OrderIdInput):
    carrierCode = serializers.CharField(max_length=50)
    shipDate = ApiDateField(required=False, allow_null=True)
    trackingNumber = _text(100)
    notifyCustomer = serializers.BooleanField(required=False, default=False)
    notifySalesChannel = serializers.BooleanField(required=False, default=False)


class CreateLabelInput(OrderIdInput):
    carrierCode = serializers.CharField(max_length=50)
    serviceCode = _text(100)
    packageCode = _text(50)
    confirmation = LooseChoiceField(choices=CONFIRMATIONS, required=False, allow_null=True)
    shipDate = ApiDateField(required=False, allow_null=True)
    weight = WeightInput(required=False, allow_null=True)
    dimensions = DimensionsInput(required=False, allow_null=True)
    insuranceOptions = serializers.DictField(required=False, allow_null=True)
    internationalOptions = serializers.DictField(required=False, allow_null=True)
    advancedOptions = serializers.DictField(required=False, allow_null=True)
    testLabel = serializers.BooleanField(required=False, default=False)


class SubscribeInput(serializers.Serializer):
    """POST /webhooks/subscribe: ShipStation spells this body in snake_case."""

    target_url = serializers.URLField(max_length=1000)
    event = LooseChoiceField(choices=["ORDER_NOTIFY", "SHIP_NOTIFY"])
    store_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    friendly_name = _text()


class VoidLabelInput(serializers.Serializer):
    shipmentId = _id()


class OrderTagInput(OrderIdInput):
    """POST /orders/addtag and /orders/removetag."""

    tagId = _id()


class CreateTagInput(serializers.Serializer):
    """POST /accounts/createtag (ours: ShipStation's API v1 has no call to create a tag)."""

    name = serializers.CharField(max_length=100, help_text="Unique among your tags, whatever its case.")
    color = serializers.RegexField(
        r"^#[0-9A-Fa-f]{6}$", required=False, allow_null=True, help_text='"#RRGGBB"; grey (#9E9E9E) when not given.'
    )


# --- responses (schema only: the presenters build the JSON) ---------------------------------------


def text_or_null(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


def number_or_null(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


class Address(serializers.Serializer):
    name = text_or_null()
    company = text_or_null()
    street1 = text_or_null()
    street2 = text_or_null()
    street3 = text_or_null()
    city = text_or_null()
    state = text_or_null()
    postalCode = text_or_null()
    country = text_or_null()
    phone = text_or_null()
    residential = serializers.BooleanField(allow_null=True)
    addressVerified = text_or_null()


class Weight(serializers.Serializer):
    value = serializers.FloatField()
    units = serializers.ChoiceField(choices=WEIGHT_UNITS)
    WeightUnits = serializers.IntegerField()


class Dimensions(serializers.Serializer):
    length = number_or_null()
    width = number_or_null()
    height = number_or_null()
    units = serializers.ChoiceField(choices=DIMENSION_UNITS)


class InsuranceOptions(serializers.Serializer):
    provider = text_or_null()
    insureShipment = serializers.BooleanField()
    insuredValue = serializers.FloatField()


class InternationalOptions(serializers.Serializer):
    contents = text_or_null()
    customsItems = serializers.ListField(child=serializers.DictField(), allow_null=True)
    nonDelivery = text_or_null()


class AdvancedOptions(serializers.Serializer):
    warehouseId = serializers.IntegerField(allow_null=True)
    nonMachinable = serializers.BooleanField()
    saturdayDelivery = serializers.BooleanField()
    containsAlcohol = serializers.BooleanField()
    storeId = serializers.IntegerField()
    customField1 = text_or_null()
    customField2 = text_or_null()
    customField3 = text_or_null()
    source = text_or_null()
    mergedOrSplit = serializers.BooleanField()
    mergedIds = serializers.ListField(child=serializers.IntegerField())
    parentId = serializers.IntegerField(allow_null=True)
    billToParty = text_or_null()
    billToAccount = text_or_null()
    billToPostalCode = text_or_null()
    billToCountryCode = text_or_null()
    billToMyOtherAccount = text_or_null()


class ItemOption(serializers.Serializer):
    name = text_or_null()
    value = text_or_null()


class OrderItem(serializers.Serializer):
    orderItemId = serializers.IntegerField()
    lineItemKey = text_or_null()
    sku = text_or_null()
    name = serializers.CharField()
    imageUrl = text_or_null()
    weight = Weight(allow_null=True)
    quantity = serializers.IntegerField()
    unitPrice = number_or_null()
    taxAmount = number_or_null()
    shippingAmount = number_or_null()
    warehouseLocation = text_or_null()
    options = ItemOption(many=True)
    productId = serializers.IntegerField(allow_null=True)
    fulfillmentSku = text_or_null()
    adjustment = serializers.BooleanField()
    upc = text_or_null()
    createDate = text_or_null()
    modifyDate = text_or_null()


class Order(serializers.Serializer):
    orderId = serializers.IntegerField()
    orderNumber = serializers.CharField()
    orderKey = serializers.CharField()
    orderDate = text_or_null(help_text='"2015-06-29T08:46:27.0000000", API_TIME_ZONE (Pacific by default)')
    createDate = text_or_null()
    modifyDate = text_or_null()
    paymentDate = text_or_null()
    shipByDate = text_or_null()
    orderStatus = serializers.ChoiceField(choices=OrderStatus.values)
    customerId = serializers.IntegerField(allow_null=True)
    customerUsername = text_or_null()
    customerEmail = text_or_null()
    billTo = Address()
    shipTo = Address()
    items = OrderItem(many=True)
    orderTotal = serializers.FloatField()
    amountPaid = number_or_null()
    taxAmount = number_or_null()
    shippingAmount = number_or_null()
    customerNotes = text_or_null()
    internalNotes = text_or_null()
    gift = serializers.BooleanField()
    giftMessage = text_or_null()
    paymentMethod = text_or_null()
    requestedShippingService = text_or_null()
    carrierCode = text_or_null()
    serviceCode = text_or_null()
    packageCode = text_or_null()
    confirmation = text_or_null()
    shipDate = text_or_null(help_text="yyyy-mm-dd")
    holdUntilDate = text_or_null(help_text="yyyy-mm-dd")
    weight = Weight()
    dimensions = Dimensions(allow_null=True)
    insuranceOptions = InsuranceOptions()
    internationalOptions = InternationalOptions()
    advancedOptions = AdvancedOptions()
    tagIds = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="The order's tag ids; null when it has none."
    )
    userId = text_or_null()
    externallyFulfilled = serializers.BooleanField()
    externallyFulfilledBy = text_or_null()
    labelMessages = text_or_null()


class OrderList(serializers.Serializer):
    orders = Order(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


class Shipment(serializers.Serializer):
    shipmentId = serializers.IntegerField(allow_null=True)
    orderId = serializers.IntegerField()
    orderKey = serializers.CharField()
    userId = text_or_null()
    customerEmail = text_or_null()
    orderNumber = serializers.CharField()
    createDate = text_or_null()
    shipDate = text_or_null()
    shipmentCost = serializers.FloatField()
    insuranceCost = serializers.FloatField()
    trackingNumber = text_or_null()
    isReturnLabel = serializers.BooleanField()
    batchNumber = text_or_null()
    carrierCode = serializers.CharField()
    serviceCode = text_or_null()
    packageCode = text_or_null()
    confirmation = text_or_null()
    warehouseId = serializers.IntegerField(allow_null=True)
    voided = serializers.BooleanField()
    voidDate = text_or_null()
    marketplaceNotified = serializers.BooleanField()
    notifyErrorMessage = text_or_null()
    shipTo = Address()
    weight = Weight(allow_null=True)
    dimensions = Dimensions(allow_null=True)
    insuranceOptions = InsuranceOptions()
    advancedOptions = AdvancedOptions()
    shipmentItems = OrderItem(many=True, allow_null=True)
    labelData = text_or_null(help_text="The 4x6 label, a base64 PDF (label calls only).")
    formData = text_or_null()


class Tag(serializers.Serializer):
    tagId = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField(help_text='"#RRGGBB"')


class ShipmentList(serializers.Serializer):
    shipments = Shipment(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


class CreateOrdersResult(serializers.Serializer):
    orderId = serializers.IntegerField(allow_null=True)
    orderNumber = text_or_null()
    orderKey = text_or_null()
    success = serializers.BooleanField()
    errorMessage = text_or_null()


class CreateOrdersResponse(serializers.Serializer):
    hasErrors = serializers.BooleanField()
    results = CreateOrdersResult(many=True)


class MarkShippedResponse(serializers.Serializer):
    orderId = serializers.IntegerField()
    orderNumber = serializers.CharField()


class SuccessResponse(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class VoidLabelResponse(serializers.Serializer):
    approved = serializers.BooleanField()
    message = serializers.CharField()


class Carrier(serializers.Serializer):
    name = serializers.CharField()
    code = serializers.CharField()
    accountNumber = text_or_null()
    requiresFundedAccount = serializers.BooleanField()
    balance = serializers.FloatField()
    nickname = text_or_null()
    shippingProviderId = serializers.IntegerField(allow_null=True)
    primary = serializers.BooleanField()


class CarrierService(serializers.Serializer):
    carrierCode = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    domestic = serializers.BooleanField()
    international = serializers.BooleanField()


class CarrierPackage(CarrierService):
    pass


class Error(serializers.Serializer):
    Message = serializers.CharField()
    ModelState = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class WebhookLog(serializers.Serializer):
    """Ours: the latest deliveries of the webhook (ShipStation leaves WebhookLogs undocumented)."""

    batchId = serializers.CharField()
    resourceUrl = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "delivered", "failed"])
    attempts = serializers.IntegerField()
    lastStatusCode = serializers.IntegerField(allow_null=True)
    lastError = text_or_null()
    createDate = text_or_null()
    deliveredDate = text_or_null()


class WebhookEntry(serializers.Serializer):
    """GET /webhooks lists webhooks in PascalCase, as ShipStation does."""

    IsLabelAPIHook = serializers.BooleanField()
    WebHookID = serializers.IntegerField()
    SellerID = serializers.IntegerField()
    StoreID = serializers.IntegerField(allow_null=True)
    HookType = serializers.CharField()
    MessageFormat = serializers.CharField()
    Url = serializers.CharField()
    Name = text_or_null()
    BulkCopyBatchID = text_or_null()
    BulkCopyRecordID = text_or_null()
    Active = serializers.BooleanField()
    WebhookLogs = WebhookLog(many=True)
    Seller = text_or_null()
    Store = text_or_null()


class WebhookList(serializers.Serializer):
    webhooks = WebhookEntry(many=True)


class SubscribeResponse(serializers.Serializer):
    id = serializers.IntegerField()
    signing_secret = serializers.CharField(help_text="Ours: the HMAC key of X-Webhook-Signature, shown once.")
