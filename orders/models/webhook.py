"""ShipStation-style webhooks of the API: who wants to hear about new orders and labels, and every delivery."""

from django.db import models
from django.db.models import Q

from shipping.core.fields import EncryptedJSONField


class Webhook(models.Model):
    """A subscription: POST {resource_url, resource_type} to ``target_url`` when something happens.

    Cursors point at the last OrderStatusChange / Label already announced; a periodic task announces
    what came after them (a batch per run), so imports and label code need no hooks.
    """

    class Event(models.TextChoices):
        ORDER_NOTIFY = "ORDER_NOTIFY", "New orders"
        SHIP_NOTIFY = "SHIP_NOTIFY", "New labels"

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="webhooks")
    store = models.ForeignKey("channels.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=32, choices=Event.choices)
    target_url = models.URLField(max_length=1000)
    friendly_name = models.CharField(max_length=200, blank=True)
    # Where resource_url points: the API base the subscriber used (http://host/api/v1).
    api_base_url = models.CharField(max_length=500)
    signing_secret = EncryptedJSONField(default=str)  # HMAC key of the X-Webhook-Signature header
    active = models.BooleanField(default=True)
    cursor = models.BigIntegerField(default=0)  # last OrderStatusChange.id (orders) or Label.id (labels) announced
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["event", "active"], name="webhook_event_active")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.target_url}"


class WebhookDelivery(models.Model):
    """One POST to a webhook (with its retries): the delivery log, and what its resource_url lists."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    batch_id = models.CharField(max_length=32, unique=True)  # importBatch= / batchId= in resource_url
    object_ids = models.JSONField(default=list)  # the orders or shipments of this batch
    resource_url = models.CharField(max_length=700)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["webhook", "-created_at"], name="webhookdelivery_hook_created"),
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="webhookdelivery_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.batch_id} ({self.status})"
