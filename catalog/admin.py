"""Admin: products and their listing settings are editable; stock numbers are read-only (they change
through the stock services, which record a movement for every change)."""

from django.contrib import admin
from django.db import models
from django.db.models import Sum

from .models import (
    Allocation,
    Deduction,
    ListingBinding,
    ListingSettings,
    ListingSync,
    Product,
    StockLevel,
    StockMovement,
)
from .services.stock import stock_allocate_for_skus


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    extra = 0
    fields = ["warehouse", "on_hand", "allocated", "available", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="available")
    def available(self, level: StockLevel) -> int:
        return level.available


class ListingSettingsInline(admin.TabularInline):
    model = ListingSettings
    extra = 0
    raw_id_fields = ["store"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "merchant", "on_hand", "allocated", "available", "updated_at"]
    list_filter = ["merchant"]
    search_fields = ["sku", "name"]
    raw_id_fields = ["merchant"]
    inlines = [StockLevelInline, ListingSettingsInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("merchant")
            .annotate(total_on_hand=Sum("stock_levels__on_hand"), total_allocated=Sum("stock_levels__allocated"))
        )

    def get_readonly_fields(self, request, obj=None):
        # Order lines are matched by SKU: renaming one would strand what its orders hold.
        return ["sku", "merchant", "created_at", "updated_at"] if obj else ["created_at", "updated_at"]

    @admin.display(ordering="total_on_hand")
    def on_hand(self, product: Product) -> int:
        return product.total_on_hand or 0

    @admin.display(ordering="total_allocated")
    def allocated(self, product: Product) -> int:
        return product.total_allocated or 0

    @admin.display()
    def available(self, product: Product) -> int:
        return (product.total_on_hand or 0) - (product.total_allocated or 0)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # open orders already carrying the SKU take their units
            stock_allocate_for_skus(merchant_id=obj.merchant_id, skus=[obj.sku], actor=request.user)


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["product", "warehouse", "on_hand", "allocated", "updated_at"]
    list_select_related = ["product", "warehouse"]
    search_fields = ["product__sku"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "product",
        "warehouse",
        "on_hand_change",
        "allocated_change",
        "on_hand_after",
        "allocated_after",
        "reason",
        "order",
        "note",
    ]
    list_filter = ["reason"]
    list_select_related = ["product", "warehouse", "order"]
    search_fields = ["product__sku", "order__order_number", "note"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["order_line", "product", "warehouse", "quantity", "shipped_elsewhere", "updated_at"]
    list_select_related = ["order_line", "product", "warehouse"]
    search_fields = ["product__sku", "order_line__order__order_number"]


@admin.register(Deduction)
class DeductionAdmin(ReadOnlyAdmin):
    list_display = ["shipment_line", "product", "warehouse", "quantity", "updated_at"]
    list_select_related = ["shipment_line", "product", "warehouse"]


@admin.register(ListingSettings)
class ListingSettingsAdmin(admin.ModelAdmin):
    list_display = ["product", "store", "enabled", "safety_quantity", "price", "min_price", "grade", "warranty_months"]
    list_filter = ["enabled", "grade"]
    list_select_related = ["product", "store"]
    search_fields = ["product__sku", "backmarket_id"]
    raw_id_fields = ["product", "store"]


@admin.register(ListingBinding)
class ListingBindingAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "store",
        "product",
        "listing_id",
        "market",
        "publication_state",
        "last_quantity_sent",
        "last_price_sent",
        "last_sent_at",
        "last_error_at",
    ]
    list_filter = ["publication_state"]
    list_select_related = ["store", "product"]
    search_fields = ["sku", "listing_id"]
    raw_id_fields = ["product", "store"]


@admin.register(ListingSync)
class ListingSyncAdmin(admin.ModelAdmin):
    list_display = ["store", "mode", "create_listings", "repricer", "updated_at"]
    raw_id_fields = ["store"]
