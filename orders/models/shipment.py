from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from ..carriers import carrier
from .order import MONEY


class Shipment(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipments")
    warehouse = models.ForeignKey("orders.Warehouse", null=True, blank=True, on_delete=models.SET_NULL)
    carrier_code = models.CharField(max_length=50)
    service_code = models.CharField(max_length=100, blank=True)
    package_code = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    weight_grams = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    length = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    width = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    height = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dimension_units = models.CharField(
        max_length=12, choices=[("inches", "Inches"), ("centimeters", "Centimeters")], blank=True
    )
    carrier_fee = models.DecimalField(**MONEY, null=True, blank=True)
    ship_date = models.DateField()
    note_to_buyer = models.TextField(blank=True)
    notify_customer = models.BooleanField(default=True)
    notify_channel = models.BooleanField(default=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    channel_notified_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    customer_notified_at = models.DateTimeField(null=True, blank=True)  # shipment email sent
    delivery_notified_at = models.DateTimeField(null=True, blank=True)  # delivery email sent
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["order"], name="shipment_order"),
            models.Index(fields=["tracking_number"], name="shipment_tracking"),
            models.Index(Upper("tracking_number"), name="shipment_tracking_upper"),  # the grid's search
        ]

    def __str__(self) -> str:
        return f"{self.carrier_code} {self.tracking_number}".strip()

    @property
    def carrier_name(self) -> str:
        found = carrier(self.carrier_code)
        return found.name if found else self.carrier_code

    @property
    def service_name(self) -> str:
        found = carrier(self.carrier_code)
        service = found.service(self.service_code) if found and self.service_code else None
        return service.name if service else self.service_code

    @property
    def channel_notification(self):
        """The marketplace notification of this shipment (pending, delivering, done or failed), if any."""
        messages = [m for m in self.outbox_messages.all() if m.kind == "notify_shipment"]
        return messages[-1] if messages else None


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()
    serials = models.JSONField(default=list, blank=True)  # IMEIs or serial numbers, one per unit

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_positive"),
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipmentline_unique_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id}"


class Label(models.Model):
    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        ZPL = "zpl", "ZPL"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="labels")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.PDF)
    file = models.FileField(upload_to="labels/%Y/%m/")
    tracking_number = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.format} label {self.tracking_number}"
