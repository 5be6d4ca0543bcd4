"""The listing sync's outbox and its log.

``ListingPush`` is the outbox of quantity pushes: a row per store and product, written in the same
transaction as the stock change that makes it due (so it commits with the change or not at all),
delivered by a task scheduled on commit and swept by beat. Many changes before delivery are one row:
the push sends the quantity as it is when it runs, not a queue of deltas.

``ListingEvent`` is what the merchant reads in the listings log: every write sent (or held back, or
refused), every binding, every repricer decision. ``ListingTask`` is one bulk creation task.
"""

from django.db import models

from orders.models.order import MONEY


class ListingPush(models.Model):
    store = models.ForeignKey("channels.Store", on_delete=models.CASCADE, related_name="listing_pushes")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="listing_pushes")
    requested_at = models.DateTimeField()  # the latest change that made it due
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)  # a worker is delivering it
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "product"], name="listingpush_one_per_product")]
        indexes = [models.Index(fields=["next_attempt_at"], name="listingpush_due")]

    def __str__(self) -> str:
        return f"push {self.product_id} to {self.store_id}"


class ListingEvent(models.Model):
    class Kind(models.TextChoices):
        PUSH = "push", "Update sent"
        ZERO = "zero", "Unknown SKU set to 0"
        DEFERRED = "deferred", "Held back"
        FAILED = "failed", "Update refused"
        BOUND = "bound", "Listing bound"
        CREATE_TASK = "create_task", "Creation task"
        CREATED = "created", "Listing created"
        CREATE_FAILED = "create_failed", "Creation refused"
        REPRICE = "reprice", "Repricer decision"

    class Trigger(models.TextChoices):
        STOCK = "stock", "Stock change"
        RECONCILE = "reconcile", "Reconcile"
        CREATE = "create", "Listing creation"
        REPRICER = "repricer", "Repricer"

    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey("channels.Store", on_delete=models.CASCADE, related_name="listing_events")
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="listing_events"
    )
    sku = models.CharField(max_length=100, blank=True)
    listing_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    quantity_before = models.IntegerField(null=True, blank=True)
    quantity_after = models.IntegerField(null=True, blank=True)
    price_before = models.DecimalField(**MONEY, null=True, blank=True)
    price_after = models.DecimalField(**MONEY, null=True, blank=True)
    competitor_price = models.DecimalField(**MONEY, null=True, blank=True)  # the repricer's price to win
    currency = models.CharField(max_length=3, blank=True)
    outcome = models.CharField(max_length=40, blank=True)  # the repricer's: changed, kept, below_min, failed ...
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "-created_at"], name="listingevent_store_recent"),
            models.Index(fields=["product", "-created_at"], name="listingevent_product_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sku}"


class ListingTask(models.Model):
    """One ``POST /ws/listings`` CSV task, polled with ``GET /ws/tasks/{id}`` until it ends."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for Back Market"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    store = models.ForeignKey("channels.Store", on_delete=models.CASCADE, related_name="listing_tasks")
    task_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    skus = models.JSONField(default=list)  # the rows sent, in order
    created = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # the task's own failure (last_action_error)
    result = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["store", "task_id"], name="listingtask_unique_task")]

    def __str__(self) -> str:
        return f"task {self.task_id} ({self.status})"

    @property
    def pending(self) -> int:
        return max(0, len(self.skus) - self.created - self.failed)
