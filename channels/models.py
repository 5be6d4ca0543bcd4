"""Stores and their sync log: runs, issues a person must look at, and the calls we made."""

from django.db import models
from django.db.models import Q

from orders.statuses import OrderStatus
from shipping.core.fields import EncryptedJSONField

from .base import Capability, ChannelKind

KIND_CHOICES = [(kind.value, kind.label) for kind in ChannelKind]


class Store(models.Model):
    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="stores")
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    name = models.CharField(max_length=100)
    # Secrets (tokens, passwords) encrypted with FIELD_ENCRYPTION_KEYS; never filtered on, never shown.
    credentials = EncryptedJSONField(default=dict, blank=True)
    # Non-secret adapter settings: region, base URL, market, endpoint URL, username ...
    config = models.JSONField(default=dict, blank=True)

    # Branding and customer notifications (packing slips, emails).
    company_name = models.CharField(max_length=200, blank=True)
    logo = models.FileField(upload_to="store-logos/", blank=True)
    notify_customer_on_shipment = models.BooleanField(default=True)
    notify_customer_on_delivery = models.BooleanField(default=False)

    import_interval_minutes = models.PositiveIntegerField(default=5)
    auto_accept = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    needs_new_credentials = models.BooleanField(default=False)
    credentials_message = models.TextField(blank=True)

    # Import watermark: everything modified before this instant has been imported.
    orders_synced_until = models.DateTimeField(null=True, blank=True)
    import_dispatched_at = models.DateTimeField(null=True, blank=True)
    last_import_started_at = models.DateTimeField(null=True, blank=True)
    last_import_finished_at = models.DateTimeField(null=True, blank=True)
    # Lease: one import per store at a time, across every worker (claimed by a conditional UPDATE).
    lease_token = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="store_unique_name_per_merchant"),
            models.CheckConstraint(condition=Q(import_interval_minutes__gte=1), name="store_interval_positive"),
        ]
        indexes = [models.Index(fields=["kind", "is_active"], name="store_kind_active")]

    def __str__(self) -> str:
        return self.name

    # What the orders app needs to know about the channel, without importing it.
    def _adapter_class(self):
        from .registry import UnknownChannel, get_adapter_class

        try:
            return get_adapter_class(self.kind)
        except UnknownChannel:
            return None

    @property
    def requires_serials(self) -> bool:
        """Every unit shipped needs an IMEI or serial number (Back Market)."""
        cls = self._adapter_class()
        return bool(cls and cls.requires_serials)

    @property
    def notifies_shipments(self) -> bool:
        cls = self._adapter_class()
        return bool(cls and Capability.NOTIFY_SHIPMENT in cls.capabilities)

    @property
    def cancels_at_channel(self) -> bool:
        cls = self._adapter_class()
        return bool(cls and Capability.CANCEL in cls.capabilities)


class StatusMapping(models.Model):
    """A channel status (case-sensitive) and the order status it means, per store.

    Seeded from the adapter's defaults when the store is connected; editable per store.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="status_mappings")
    external_status = models.CharField(max_length=100)
    status = models.CharField(max_length=32, choices=OrderStatus.choices)

    class Meta:
        ordering = ["status", "external_status"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_status"], name="status_mapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.external_status} -> {self.status}"


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        IMPORT_ORDERS = "import_orders", "Order import"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run holds the store)"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"
        BACKFILL = "backfill", "Backfill"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.IMPORT_ORDERS)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    quarantined_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["store", "-started_at"], name="syncrun_store_started")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.store_id} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncIssue(models.Model):
    """Something a person has to look at: a quarantined record, an unmapped status, a failed call."""

    class Kind(models.TextChoices):
        QUARANTINED = "quarantined", "Order not imported"
        UNMAPPED_STATUS = "unmapped_status", "Unmapped status"
        OUTBOUND_FAILED = "outbound_failed", "Marketplace update failed"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_issues")
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues")
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_issues"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    external_id = models.CharField(max_length=100, blank=True)
    message = models.TextField()
    payload = models.JSONField(default=dict, blank=True)  # the raw record, as the marketplace sent it
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["store", "status"], name="syncissue_store_status")]
        constraints = [
            # One open issue per record and kind: a re-import bumps it instead of adding rows.
            models.UniqueConstraint(
                fields=["store", "kind", "external_id"],
                condition=Q(status="open"),
                name="syncissue_one_open_per_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.external_id} ({self.status})"


class ChannelCall(models.Model):
    """One HTTP call to a marketplace, secrets redacted, bodies truncated; purged after N days."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="calls")
    method = models.CharField(max_length=10)
    url = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["store", "-created_at"], name="channelcall_store_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status_code or self.error}"
