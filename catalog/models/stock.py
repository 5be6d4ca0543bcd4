"""Stock: on hand and allocated per product and warehouse, every change as a movement, and the rows
that make order-driven changes idempotent (one Allocation per order line, one Deduction per shipment line).

Available = on hand - allocated, summed over the product's warehouses.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Reason(models.TextChoices):
    # The first six are what orders services report (orders.services.stock_hooks.StockEvent).
    ORDER_IMPORT = "order_import", "Order import"
    ORDER_CHANGE = "order_change", "Order changed"
    CANCELLATION = "cancellation", "Cancellation"
    SHIPMENT = "shipment", "Shipment"
    SHIPMENT_VOID = "shipment_void", "Shipment voided"
    ORDER_DELETED = "order_deleted", "Order deleted"
    CATALOG_CHANGE = "catalog_change", "Product added to the catalog"
    MANUAL_ADJUSTMENT = "manual_adjustment", "Manual adjustment"
    CSV_UPLOAD = "csv_upload", "CSV upload"
    API = "api", "API"


class StockLevel(models.Model):
    """One product in one warehouse (the ship-from warehouses of ``orders``; null when the merchant has none).

    Changed only through ``catalog.services.stock`` (row lock, then F() updates), never edited by hand.
    """

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="stock_levels")
    # RESTRICT: a warehouse holding stock rows cannot be deleted on its own (it can with its merchant).
    warehouse = models.ForeignKey(
        "orders.Warehouse", null=True, blank=True, on_delete=models.RESTRICT, related_name="stock_levels"
    )
    # May go negative: a wrong count must never stop a parcel from being shipped.
    on_hand = models.IntegerField(default=0)
    # Units held by open orders. Never negative by construction; no CHECK, so a bookkeeping slip can
    # never make an order import fail.
    allocated = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "warehouse"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], condition=Q(warehouse__isnull=False), name="stocklevel_unique"
            ),
            models.UniqueConstraint(
                fields=["product"], condition=Q(warehouse__isnull=True), name="stocklevel_unique_no_warehouse"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.product} @ {self.warehouse or 'no warehouse'}: {self.on_hand} on hand, {self.allocated} allocated"
        )

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class StockMovement(models.Model):
    """One change of on hand and/or allocated at one stock level, why, and what caused it."""

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="stock_movements")
    warehouse = models.ForeignKey(
        "orders.Warehouse", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_hand_change = models.IntegerField(default=0)
    allocated_change = models.IntegerField(default=0)
    on_hand_after = models.IntegerField()
    allocated_after = models.IntegerField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shipment = models.ForeignKey("orders.Shipment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=300, blank=True)  # e.g. "N-123: quantity 1 -> 2", the CSV file name
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"], name="stockmovement_product"),
            models.Index(fields=["merchant", "-created_at"], name="stockmovement_merchant"),
            models.Index(fields=["order"], name="stockmovement_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(on_hand_change=0, allocated_change=0), name="stockmovement_changes_something"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product}: on hand {self.on_hand_change:+d}, allocated {self.allocated_change:+d} ({self.reason})"

    @property
    def available_change(self) -> int:
        return self.on_hand_change - self.allocated_change


class Allocation(models.Model):
    """What one order line holds, so a re-import, a retry or a concurrent worker changes only the difference.

    ``quantity``: units allocated now. ``shipped_elsewhere``: units taken from on hand because the order
    became shipped without a shipment of ours (marked shipped at the marketplace). Created the first time
    the line is seen on an open order with a catalog SKU; orders first seen shipped or cancelled are history
    and never touch stock.
    """

    order_line = models.OneToOneField("orders.OrderLine", on_delete=models.CASCADE, related_name="stock_allocation")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(
        "orders.Warehouse", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=0)
    shipped_elsewhere = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["product"], name="allocation_product")]

    def __str__(self) -> str:
        return f"line {self.order_line_id}: {self.quantity} x {self.product_id}"


class Deduction(models.Model):
    """Units one shipment line took from on hand (at the shipment's warehouse); 0 again once it is voided."""

    shipment_line = models.OneToOneField(
        "orders.ShipmentLine", on_delete=models.CASCADE, related_name="stock_deduction"
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(
        "orders.Warehouse", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"shipment line {self.shipment_line_id}: {self.quantity} x {self.product_id}"
