from django.contrib import admin

from .models import ApiKey, Membership, Merchant


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_email", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role"]
    list_filter = ["role"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "merchant", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key", "secret_hash", "created_at", "last_used_at"]
