"""Products: one row per SKU of a merchant (SKUs compare case-insensitively, as Back Market's do)."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from orders.models.order import MONEY


class Product(models.Model):
    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=100)  # as long as OrderLine.sku; matched to order lines case-insensitively
    name = models.CharField(max_length=500, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    weight_grams = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)  # one unit
    cost = models.DecimalField(**MONEY, null=True, blank=True)  # what one unit cost the merchant
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            # Also the index every SKU lookup uses (order lines, CSV upserts): UPPER(sku) per merchant.
            models.UniqueConstraint(F("merchant"), Upper("sku"), name="product_unique_sku_per_merchant"),
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_blank"),
            models.CheckConstraint(condition=Q(weight_grams__gte=0), name="product_weight_not_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.sku


class Grade(models.IntegerChoices):
    """SellerCloud's BACKMARKET_GRADE (0-4); Back Market's API takes the names in ``BACKMARKET_NAMES``."""

    MINT = 0, "Mint / Excellent"
    VERY_GOOD = 1, "Very Good"
    GOOD = 2, "Good"
    FAIR = 3, "Fair"
    STALLONE = 4, "Stallone"

    @property
    def backmarket_name(self) -> str:
        return BACKMARKET_GRADE_NAMES[self.value]


# Listing `grade` values, paired with the deprecated numeric `state` as the reference (§5.3) observed live.
BACKMARKET_GRADE_NAMES = {0: "EXCELLENT", 1: "VERY_GOOD", 2: "GOOD", 3: "FAIR", 4: "STALLONE"}
