from django.contrib import admin

from .models import (
    Label,
    Order,
    OrderLine,
    OrderStatusChange,
    OutboxMessage,
    Shipment,
    ShipmentLine,
    Tag,
    Webhook,
    WebhookDelivery,
)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = [
        "external_line_id",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "stock_location",
        "imei",
        "serial_number",
        "removed_at",
    ]


class StatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    readonly_fields = ["old_status", "new_status", "source", "actor", "external_status", "note", "created_at"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_number",
        "store",
        "merchant",
        "status",
        "customer_name",
        "order_date",
        "order_total",
        "currency",
    ]
    list_filter = ["status", "store__kind"]
    search_fields = ["order_number", "external_id", "customer_name", "customer_email"]
    list_select_related = ["store", "merchant"]
    inlines = [OrderLineInline, StatusChangeInline]
    raw_id_fields = ["store", "merchant"]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "sku", "name", "quantity", "unit_price"]
    search_fields = ["sku", "name", "order__order_number"]
    raw_id_fields = ["order"]


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["order", "old_status", "new_status", "source", "created_at"]
    raw_id_fields = ["order", "actor"]


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    raw_id_fields = ["order_line"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "order",
        "carrier_code",
        "service_code",
        "tracking_number",
        "ship_date",
        "voided_at",
        "channel_notified_at",
    ]
    search_fields = ["tracking_number", "order__order_number"]
    raw_id_fields = ["order", "created_by"]
    inlines = [ShipmentLineInline]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["shipment", "format", "tracking_number", "created_at", "voided_at"]
    raw_id_fields = ["shipment"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["kind", "store", "order", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["merchant", "store", "order", "shipment"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["id", "merchant", "event", "target_url", "active", "created_at"]
    list_filter = ["event", "active"]
    exclude = ["signing_secret"]  # the signing secret is shown once, at subscribe; never here


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "webhook", "status", "attempts", "last_status_code", "created_at", "delivered_at"]
    list_filter = ["status"]
    readonly_fields = ["webhook", "batch_id", "object_ids", "resource_url", "created_at", "delivered_at"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["id", "merchant", "name", "color"]
    search_fields = ["name"]
