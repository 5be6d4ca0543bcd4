"""Orders and their lines.

Field ownership (what an import may overwrite) is written next to each field:
  [channel]  refreshed from the marketplace on every re-import;
  [first]    taken from the marketplace when the order is created, then owned by the app;
  [app]      never touched by an import.
The status is [channel] until the app moves the order itself (status_owner = app): then an
import may still cancel or ship it, but never pulls it back (see orders.services.order_import).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from ..statuses import OrderStatus, StatusOwner, StatusSource

MONEY = {"max_digits": 14, "decimal_places": 4}


def _address_fields(prefix: str) -> dict[str, models.Field]:
    return {
        f"{prefix}_name": models.CharField(max_length=200, blank=True),
        f"{prefix}_company": models.CharField(max_length=200, blank=True),
        f"{prefix}_street1": models.CharField(max_length=200, blank=True),
        f"{prefix}_street2": models.CharField(max_length=200, blank=True),
        f"{prefix}_street3": models.CharField(max_length=200, blank=True),
        f"{prefix}_city": models.CharField(max_length=100, blank=True),
        f"{prefix}_state": models.CharField(max_length=100, blank=True),
        f"{prefix}_postal_code": models.CharField(max_length=50, blank=True),
        f"{prefix}_country": models.CharField(max_length=2, blank=True),
        f"{prefix}_phone": models.CharField(max_length=50, blank=True),
        f"{prefix}_residential": models.BooleanField(null=True, blank=True),
    }


ADDRESS_PARTS = tuple(name.removeprefix("x_") for name in _address_fields("x"))


class Order(models.Model):
    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="orders")
    store = models.ForeignKey("channels.Store", on_delete=models.PROTECT, related_name="orders")

    external_id = models.CharField(max_length=100)  # [channel] the marketplace's order id
    order_number = models.CharField(max_length=100)  # [channel] what people see
    external_status = models.CharField(max_length=100, blank=True)  # [channel] raw marketplace status
    external_updated_at = models.DateTimeField(null=True, blank=True)  # [channel]
    # [channel] digest of what the marketplace sent: stores with minute-granular timestamps can change
    # an order twice within one minute, so an equal timestamp alone does not prove "unchanged".
    external_fingerprint = models.CharField(max_length=64, blank=True)
    marketplace = models.CharField(max_length=100, blank=True)  # [channel] for hubs: where it was sold

    status = models.CharField(max_length=32, choices=OrderStatus.choices, default=OrderStatus.AWAITING_SHIPMENT)
    status_owner = models.CharField(max_length=16, choices=StatusOwner.choices, default=StatusOwner.CHANNEL)
    hold_until = models.DateTimeField(null=True, blank=True)  # [app]
    hold_reason = models.CharField(max_length=300, blank=True)  # [app]

    order_date = models.DateTimeField()  # [channel]
    payment_date = models.DateTimeField(null=True, blank=True)  # [channel]
    ship_by_date = models.DateTimeField(null=True, blank=True)  # [channel]

    customer_name = models.CharField(max_length=200, blank=True)  # [channel]
    customer_email = models.EmailField(max_length=254, blank=True)  # [channel]
    customer_phone = models.CharField(max_length=50, blank=True)  # [channel] raw, never rejected
    customer_username = models.CharField(max_length=200, blank=True)  # [channel]
    locals().update(_address_fields("ship_to"))  # [channel]
    locals().update(_address_fields("bill_to"))  # [channel]

    requested_shipping_service = models.CharField(max_length=200, blank=True)  # [channel]
    payment_method = models.CharField(max_length=100, blank=True)  # [channel]
    currency = models.CharField(max_length=3, blank=True)  # [channel]
    order_total = models.DecimalField(**MONEY, default=Decimal("0"))  # [channel]
    amount_paid = models.DecimalField(**MONEY, null=True, blank=True)  # [channel]
    tax_amount = models.DecimalField(**MONEY, null=True, blank=True)  # [channel]
    shipping_amount = models.DecimalField(**MONEY, null=True, blank=True)  # [channel]
    discount_amount = models.DecimalField(**MONEY, null=True, blank=True)  # [channel]
    coupon_codes = models.CharField(max_length=300, blank=True)  # [channel] comma separated
    gift = models.BooleanField(default=False)  # [channel]
    gift_message = models.TextField(blank=True)  # [channel]
    customer_notes = models.TextField(blank=True)  # [channel]
    internal_notes = models.TextField(blank=True)  # [first] staff notes; IMEIs are typed here too
    total_weight_grams = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)  # [channel]
    custom_field_1 = models.CharField(max_length=200, blank=True)  # [channel]
    custom_field_2 = models.CharField(max_length=200, blank=True)  # [channel]
    custom_field_3 = models.CharField(max_length=200, blank=True)  # [channel]

    acknowledged_at = models.DateTimeField(null=True, blank=True)  # [app] accepted at the marketplace
    tags = models.ManyToManyField("orders.Tag", blank=True, related_name="orders")  # [app] the merchant's own
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_external_id_per_store"),
            models.CheckConstraint(condition=Q(order_total__gte=0), name="order_total_not_negative"),
        ]
        # The grid seeks on (sort key, id) within a merchant, a status tab or a store: each index ends in
        # id so a page is one index range read, with no sort and no OFFSET, however deep.
        indexes = [
            models.Index(fields=["merchant", "status", "-order_date", "-id"], name="order_merchant_status_date"),
            models.Index(fields=["merchant", "-order_date", "-id"], name="order_merchant_date"),
            models.Index(fields=["store", "status", "-order_date", "-id"], name="order_store_status_date"),
            models.Index(fields=["store", "-order_date", "-id"], name="order_store_date"),
            # Narrow, so the status tab counts read it alone rather than the whole table (~3x faster).
            models.Index(fields=["merchant", "status"], name="order_merchant_status"),
            models.Index(fields=["merchant", "order_number"], name="order_merchant_number"),
        ]

    def __str__(self) -> str:
        return f"Order {self.order_number}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_line_id = models.CharField(max_length=100)  # [channel]
    sku = models.CharField(max_length=100, blank=True)  # [channel]
    name = models.CharField(max_length=500)  # [channel]
    quantity = models.PositiveIntegerField()  # [channel]
    unit_price = models.DecimalField(**MONEY, default=Decimal("0"))  # [channel] negative for adjustments
    tax_amount = models.DecimalField(**MONEY, null=True, blank=True)  # [channel]
    weight_grams = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)  # [channel] one unit
    options = models.JSONField(default=list, blank=True)  # [channel] [{"name": ..., "value": ...}]
    image_url = models.URLField(max_length=1000, blank=True)  # [channel]
    stock_location = models.CharField(max_length=100, blank=True)  # [channel]
    upc = models.CharField(max_length=50, blank=True)  # [channel]
    is_adjustment = models.BooleanField(default=False)  # [channel] discounts and fees as lines
    external_status = models.CharField(max_length=100, blank=True)  # [channel]
    removed_at = models.DateTimeField(null=True, blank=True)  # [channel] gone from the marketplace's copy
    cancelled_at = models.DateTimeField(null=True, blank=True)  # [app] cancelled by us (told to the channel)
    imei = models.CharField(max_length=15, blank=True)  # [app]
    serial_number = models.CharField(max_length=100, blank=True)  # [app]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "external_line_id"], name="orderline_unique_external_id"),
        ]
        # The grid's search matches these exactly (case-insensitively), so it looks them up, not scans.
        indexes = [
            models.Index(Upper("sku"), name="orderline_sku_upper"),
            models.Index(Upper("serial_number"), name="orderline_serial_upper"),
            models.Index(fields=["imei"], name="orderline_imei"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku or self.name}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderStatusChange(models.Model):
    """The order's timeline: every status change, who or what made it, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=32, choices=OrderStatus.choices, blank=True)
    new_status = models.CharField(max_length=32, choices=OrderStatus.choices)
    source = models.CharField(max_length=16, choices=StatusSource.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    external_status = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="statuschange_order_at")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.old_status or 'new'} -> {self.new_status}"
