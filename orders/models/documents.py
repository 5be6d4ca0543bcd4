from django.conf import settings
from django.db import models


class PackingSlip(models.Model):
    """A rendered packing slip, kept for reprints."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="packing_slips")
    file = models.FileField(upload_to="packing-slips/%Y/%m/")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Packing slip {self.order_id} ({self.created_at:%Y-%m-%d %H:%M})"


class PrintBatch(models.Model):
    """Labels or packing slips for many orders, rendered in Celery in chunks into one PDF, in pick order."""

    class Kind(models.TextChoices):
        LABELS = "labels", "Labels"
        PACKING_SLIPS = "packing_slips", "Packing slips"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RENDERING = "rendering", "Rendering"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="print_batches")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    order_ids = models.JSONField(default=list)  # in pick order (stock location, then SKU)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=dict, blank=True)  # order id -> why it is not in the PDF
    file = models.FileField(upload_to="batches/%Y/%m/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} batch {self.pk} ({self.done}/{self.total})"
