from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """Outbound work for a marketplace, written in the same transaction as the change causing it.

    A task scheduled on commit delivers it; a periodic sweeper re-enqueues what is due, so a lost
    broker message or a dead worker delays a notification but never loses it. ``dedupe_key`` makes
    writing the same intent twice harmless.
    """

    class Kind(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", "Accept order"
        NOTIFY_SHIPMENT = "notify_shipment", "Shipment notification"
        CANCEL = "cancel", "Cancellation"
        PUSH_LISTINGS = "push_listings", "Listing update"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey("channels.Store", on_delete=models.CASCADE, related_name="outbox")
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    shipment = models.ForeignKey(
        "orders.Shipment", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The last attempt may have reached the marketplace (timeout after sending): re-read first.
    ambiguous = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "delivering"]),
                name="outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
