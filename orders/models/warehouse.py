from django.db import models
from django.db.models import Q

from .order import _address_fields


class Warehouse(models.Model):
    """A place the merchant ships from: the ship-from address printed on labels."""

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="warehouses")
    name = models.CharField(max_length=100)
    locals().update(_address_fields("address"))
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="warehouse_unique_name"),
            models.UniqueConstraint(fields=["merchant"], condition=Q(is_default=True), name="warehouse_one_default"),
        ]

    def __str__(self) -> str:
        return self.name
