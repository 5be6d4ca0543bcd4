from django.contrib import admin

from .models import ChannelCall, StatusMapping, Store, SyncIssue, SyncRun


class StatusMappingInline(admin.TabularInline):
    model = StatusMapping
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "kind", "is_active", "needs_new_credentials", "orders_synced_until"]
    list_filter = ["kind", "is_active", "needs_new_credentials"]
    search_fields = ["name", "merchant__name"]
    # Credentials are never shown back, not even to staff; they are changed through the app.
    exclude = ["credentials", "lease_token"]
    readonly_fields = [
        "orders_synced_until",
        "last_import_started_at",
        "last_import_finished_at",
        "import_dispatched_at",
        "lease_expires_at",
    ]
    inlines = [StatusMappingInline]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "store",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "created_count",
        "updated_count",
        "unchanged_count",
        "quarantined_count",
    ]
    list_filter = ["status", "trigger"]
    raw_id_fields = ["store"]


@admin.register(SyncIssue)
class SyncIssueAdmin(admin.ModelAdmin):
    list_display = ["store", "kind", "external_id", "status", "occurrences", "last_seen_at"]
    list_filter = ["kind", "status"]
    search_fields = ["external_id", "message"]
    raw_id_fields = ["store", "run", "order"]


@admin.register(ChannelCall)
class ChannelCallAdmin(admin.ModelAdmin):
    list_display = ["store", "method", "url", "status_code", "duration_ms", "created_at"]
    list_filter = ["status_code"]
    raw_id_fields = ["store"]
