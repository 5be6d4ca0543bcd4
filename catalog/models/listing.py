"""What a store sells and how: per-product settings (SellerCloud's custom columns), the listing each
product is bound to on the marketplace, and the store's sync switches.

The sync itself (channels.services.listing_sync, listing_create, repricer) reads these and records what
it did in ``listing_log``.
"""

import re
import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from orders.models.order import MONEY

from .product import BACKMARKET_GRADE_NAMES, Grade

MIN_WARRANTY_MONTHS = 12  # Back Market refuses less (reference §5.2)


def backmarket_id_clean(value: str) -> str:
    """A Back Market product id as kept: the number in the product's backmarket.com URL (``23774``), or a
    product UUID (lower case, hyphenated). Raises ValueError for anything else."""
    value = value.strip()
    if re.fullmatch(r"[1-9][0-9]{0,17}", value):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is neither the number in the product's backmarket.com URL nor a product UUID"
        ) from None


class ListingSync(models.Model):
    """A store's listing switches (SellerCloud's choice of 'quantities' or 'prices & quantities')."""

    class Mode(models.TextChoices):
        OFF = "off", "Off"
        QUANTITIES = "quantities", "Quantities"
        PRICES_AND_QUANTITIES = "prices_and_quantities", "Prices and quantities"

    store = models.OneToOneField("channels.Store", on_delete=models.CASCADE, related_name="listing_sync")
    mode = models.CharField(max_length=32, choices=Mode.choices, default=Mode.OFF)
    create_listings = models.BooleanField(default=False)  # enabled products get listings created
    repricer = models.BooleanField(default=False)  # move the price towards the buybox, within min..default price
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_reconcile = models.JSONField(default=dict, blank=True)  # the counts of the last full reconcile
    last_create_at = models.DateTimeField(null=True, blank=True)
    last_reprice_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.store}: {self.get_mode_display()}"

    @property
    def sends_prices(self) -> bool:
        """Prices follow the merchant's (default) price: 'prices and quantities' without the repricer, who then
        owns prices."""
        return self.mode == self.Mode.PRICES_AND_QUANTITIES and not self.repricer


class ListingSettings(models.Model):
    """One product in one store: the Back Market columns SellerCloud keeps per product.

    BACKMARKET_ENABLED_US, BACKMARKET_SAFETY_QTY, BACKMARKET_PRICE_US, BACKMARKET_MIN_PRICE_US,
    BACKMARKET_ID, BACKMARKET_GRADE, BACKMARKET_WARRANTY_DELAY. Prices are in the store's currency.
    """

    store = models.ForeignKey("channels.Store", on_delete=models.CASCADE, related_name="listing_settings")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="listing_settings")
    enabled = models.BooleanField(default=False)
    # Quantity sent = max(0, available - safety quantity).
    safety_quantity = models.PositiveIntegerField(default=0)
    price = models.DecimalField(**MONEY, null=True, blank=True)  # the default price
    min_price = models.DecimalField(**MONEY, null=True, blank=True)  # the repricer's floor
    backmarket_id = models.CharField(max_length=64, blank=True)  # number in the product URL, or product UUID
    grade = models.PositiveSmallIntegerField(choices=Grade.choices, null=True, blank=True)
    warranty_months = models.PositiveSmallIntegerField(default=MIN_WARRANTY_MONTHS)
    # Back Market's words for the last listing-creation row that failed for this product.
    creation_error = models.TextField(blank=True)
    creation_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "listing settings"
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="listingsettings_unique_product"),
            models.CheckConstraint(
                condition=Q(warranty_months__gte=MIN_WARRANTY_MONTHS), name="listingsettings_warranty_min"
            ),
            models.CheckConstraint(condition=Q(grade__lte=4), name="listingsettings_grade_range"),
            models.CheckConstraint(condition=Q(price__gte=0), name="listingsettings_price_not_negative"),
            models.CheckConstraint(condition=Q(min_price__gte=0), name="listingsettings_min_price_not_negative"),
            models.CheckConstraint(
                condition=Q(min_price__isnull=True) | Q(price__isnull=True) | Q(min_price__lte=F("price")),
                name="listingsettings_min_price_le_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} in {self.store}"

    @property
    def backmarket_grade(self) -> str:
        """The grade as Back Market's API names it (EXCELLENT, VERY_GOOD, ...), or ''."""
        return "" if self.grade is None else BACKMARKET_GRADE_NAMES[self.grade]

    @property
    def backmarket_product_uuid(self) -> str:
        return "" if not self.backmarket_id or self.backmarket_id.isdigit() else self.backmarket_id

    @property
    def backmarket_numeric_id(self) -> int | None:
        return int(self.backmarket_id) if self.backmarket_id.isdigit() else None


class ListingBinding(models.Model):
    """A listing on the marketplace and the product it sells, with what we last sent and saw.

    ``product`` is null for a listing whose SKU is not in the catalog: the sync sets its quantity to 0.
    Back Market's quantity is global across markets; ``market`` is where the price was sent.
    """

    store = models.ForeignKey("channels.Store", on_delete=models.CASCADE, related_name="listing_bindings")
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="listing_bindings"
    )
    sku = models.CharField(max_length=100)  # as the marketplace has it (Back Market: cannot change)
    listing_id = models.CharField(max_length=64, blank=True)  # Back Market listing UUID (`id`)
    legacy_listing_id = models.BigIntegerField(null=True, blank=True)  # Back Market `listing_id` (deprecated)
    market = models.CharField(max_length=10, blank=True)  # Accept-Language, e.g. en-us
    # Back Market `publication_state` 0-4: 2 online and 3 offline observed; the others are undocumented.
    publication_state = models.PositiveSmallIntegerField(null=True, blank=True)
    remote_quantity = models.IntegerField(null=True, blank=True)  # as last read from the marketplace
    remote_price = models.DecimalField(**MONEY, null=True, blank=True)
    remote_currency = models.CharField(max_length=3, blank=True)
    max_price = models.DecimalField(**MONEY, null=True, blank=True)  # above it Back Market takes the listing offline
    title = models.CharField(max_length=500, blank=True)
    last_quantity_sent = models.IntegerField(null=True, blank=True)
    last_price_sent = models.DecimalField(**MONEY, null=True, blank=True)
    last_currency = models.CharField(max_length=3, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)  # last found in a read of the listings
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # A change we owe the marketplace but held back (the hourly write budget); sent by a later run.
    deferred_reason = models.CharField(max_length=200, blank=True)
    deferred_since = models.DateTimeField(null=True, blank=True)
    # The repricer's last look at the buybox (Backbox competitors).
    buybox_winning = models.BooleanField(null=True, blank=True)
    buybox_price_to_win = models.DecimalField(**MONEY, null=True, blank=True)
    buybox_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "sku"]
        constraints = [
            models.UniqueConstraint(F("store"), Upper("sku"), name="listingbinding_unique_sku"),
            models.UniqueConstraint(
                fields=["store", "listing_id"], condition=~Q(listing_id=""), name="listingbinding_unique_listing"
            ),
            models.UniqueConstraint(
                fields=["store", "product"], condition=Q(product__isnull=False), name="listingbinding_one_per_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} in {self.store}"
