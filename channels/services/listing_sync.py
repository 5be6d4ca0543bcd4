"""Listing quantities (and prices) follow the catalog: real-time pushes and the full reconcile.

Both paths read Back Market first and write only what differs from it: a push reads the one listing
(Back Market has already taken a sale off its quantity, so the order that moved our stock often needs
no write at all), the reconcile reads every listing page. Writes are absolute values, so a retried or
repeated one is harmless; what limits them is the hourly budget of listing lines, which is spent on
quantities before prices (price changes leave a reserve to quantity pushes, shared by every worker
through the rate limiter). What cannot be sent now is recorded as deferred and sent by a later run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from catalog.models import ListingBinding, ListingPush, ListingSync, Product
from catalog.services.listing_records import (
    binding_record_deferred,
    binding_record_failure,
    binding_record_write,
    bindings_refresh,
)
from catalog.targets import ListingTarget, listing_targets
from orders.services.outbox import retry_delay_seconds

from ..base import (
    BaseChannelAdapter,
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
    ListingUpdate,
)
from ..models import Store
from .adapters import adapter_for_store

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
CLAIM_SECONDS = 5 * 60
MAX_CONSECUTIVE_FAILURES = 3  # the marketplace is down: stop and let the next run try
READ_ATTEMPTS = 3


@dataclass
class SyncCounts:
    pushed: int = 0
    zeroed: int = 0
    unchanged: int = 0
    failed: int = 0
    deferred: int = 0
    read: int = 0
    requests: int = 0  # HTTP requests sent (reads and writes)
    writes: int = 0
    retry_in: float | None = None  # the earliest a deferred or failed write could go (pushes)
    next_due_in: float | None = None  # pushes: seconds until the store's next push is due
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"pushed {self.pushed} zeroed {self.zeroed} unchanged {self.unchanged} "
            f"failed {self.failed} deferred {self.deferred}"
        )


@dataclass(frozen=True, slots=True)
class Plan:
    binding: ListingBinding
    update: ListingUpdate
    quantity: bool  # the write carries a quantity change (goes first, spends the reserve)


def _same_price(a: Decimal | None, b: Decimal | None) -> bool:
    return a is not None and b is not None and a.quantize(CENT) == b.quantize(CENT)


def plan_for(*, binding: ListingBinding, target: ListingTarget | None, currency: str) -> tuple[Plan | None, str]:
    """What to write to make the listing show the target (None: nothing), and a warning to record."""
    quantity = target.quantity if target is not None else 0  # unknown SKU: 0
    price = target.price if target is not None else None
    send_quantity = binding.remote_quantity != quantity
    warning = ""
    if price is not None and binding.max_price is not None and price > binding.max_price:
        warning = (
            f"The price {price} is above Back Market's max_price {binding.max_price}, which would take the listing "
            "offline: not sent."
        )
        price = None
    send_price = price is not None and not _same_price(price, binding.remote_price)
    if not send_quantity and not send_price:
        return None, warning
    update = ListingUpdate(
        sku=binding.sku,
        quantity=quantity if send_quantity else None,
        price=price if send_price else None,
        currency=currency if send_price else "",
        listing_ref=binding.listing_id,
    )
    return Plan(binding, update, send_quantity), warning


class _Writer:
    """Sends planned writes within the budget, recording each outcome; stops when the marketplace says
    stop (429) or is down, leaving the rest deferred."""

    def __init__(self, *, adapter: BaseChannelAdapter, counts: SyncCounts, trigger: str) -> None:
        self.adapter, self.counts, self.trigger = adapter, counts, trigger
        self.stopped: str = ""
        self.consecutive_failures = 0

    def write(self, plan: Plan) -> str:
        """One write: returns 'sent', 'deferred', 'retry' (failed, worth trying again) or 'failed' (refused)."""
        binding, update = plan.binding, plan.update
        if self.stopped:
            return self._defer(plan, self.stopped)
        wait = self.adapter.reserve_listing_lines(1, low_priority=not plan.quantity)
        if wait > 0:
            reason = "Back Market's hourly budget of listing writes is spent" + (
                "" if plan.quantity else " (what is left is kept for quantity changes)"
            )
            self._retry_in(wait)
            return self._defer(plan, f"{reason}; sent later.")
        try:
            self.counts.requests += 1
            after = self.adapter.push_listing(update)
        except ChannelAuthError:
            raise
        except ChannelRateLimited as exc:
            self._retry_in(exc.retry_after or 10)
            self.stopped = f"Back Market asked us to slow down (HTTP 429); sent later. {exc.message}"[:200]
            return self._defer(plan, self.stopped)
        except ChannelUnavailable as exc:
            # A write is absolute: re-sending it later is safe even if this one went through.
            return self._fail(plan, f"Back Market did not answer: {exc.message}", transient=True)
        except ChannelRejected as exc:
            return self._fail(plan, exc.message, transient=False)
        except ChannelError as exc:
            return self._fail(plan, exc.message, transient=False)
        self.consecutive_failures = 0
        self.counts.writes += 1
        with transaction.atomic():
            binding_record_write(binding=binding, update=update, after=after, trigger=self.trigger)
        if binding.product_id is None:
            self.counts.zeroed += 1
        else:
            self.counts.pushed += 1
        return "sent"

    def _retry_in(self, seconds: float) -> None:
        current = self.counts.retry_in
        self.counts.retry_in = seconds if current is None else min(current, seconds)

    def _defer(self, plan: Plan, reason: str) -> str:
        self.counts.deferred += 1
        binding_record_deferred(binding=plan.binding, update=plan.update, reason=reason, trigger=self.trigger)
        return "deferred"

    def _fail(self, plan: Plan, message: str, *, transient: bool) -> str:
        self.counts.failed += 1
        self.counts.errors.append(f"{plan.binding.sku}: {message}")
        binding_record_failure(binding=plan.binding, update=plan.update, message=message, trigger=self.trigger)
        if transient:
            self.note_trouble(
                retry_delay_seconds(self.consecutive_failures + 1),
                message="Back Market is not answering; sent by the next run.",
            )
            return "retry"
        return "failed"

    def note_trouble(self, delay: float, *, message: str, stop_now: bool = False) -> None:
        """A transient failure (a 429 stops at once): when to try again, and whether to stop this run."""
        self.consecutive_failures += 1
        self._retry_in(delay)
        if stop_now or self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
            self.stopped = message


def _store(store_id: int) -> Store:
    return Store.objects.select_related("merchant").get(pk=store_id)


def _sync(store: Store) -> ListingSync | None:
    sync = ListingSync.objects.filter(store=store).first()
    if sync is None or sync.mode == ListingSync.Mode.OFF or not store.is_active or store.needs_new_credentials:
        return None
    return sync


# --- the full reconcile -----------------------------------------------------------------------------


def listings_reconcile(
    *,
    store_id: int,
    trigger: str = "reconcile",
    adapter: BaseChannelAdapter | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyncCounts:
    """Read every listing of the store, bind them to the catalog, and write what differs.

    Quantity changes (and unknown SKUs going to 0) are written before price-only changes, so a short
    budget holds back prices first. Pushes that were due are covered by this run and dropped.
    """
    store = _store(store_id)
    counts = SyncCounts()
    sync = _sync(store)
    if sync is None:
        return counts
    started = timezone.now()
    # Marked at the start: a run that fails is not re-dispatched every minute, but in 5.
    ListingSync.objects.filter(pk=sync.pk).update(last_reconcile_at=started)
    adapter = adapter or adapter_for_store(store)
    bindings: list[ListingBinding] = []
    cursor: str | None = None
    while True:
        counts.requests += 1
        page = _read_page(adapter, cursor, counts)
        counts.read += len(page.listings)
        for failure in page.failures:
            counts.errors.append(f"{failure.external_id}: {failure.message}")
        with transaction.atomic():
            bindings += bindings_refresh(store=store, listings=page.listings, trigger=_trigger(trigger))
        if progress:
            progress(f"read {counts.read} listings")
        cursor = page.next_cursor
        if not cursor:
            break
    targets = listing_targets(store_id=store.pk, merchant_id=store.merchant_id)
    currency = adapter.currency_for_market()
    plans = []
    for binding in bindings:
        binding.store = store
        target = targets.get(binding.product_id) if binding.product_id else None
        plan, warning = plan_for(binding=binding, target=target, currency=currency)
        if warning:
            binding_record_failure(binding=binding, update=None, message=warning, trigger=_trigger(trigger))
        if plan is None:
            counts.unchanged += 1
            if binding.deferred_since is not None:
                ListingBinding.objects.filter(pk=binding.pk).update(deferred_reason="", deferred_since=None)
        else:
            plans.append(plan)
    plans.sort(key=lambda plan: not plan.quantity)  # quantities first; stable otherwise
    writer = _Writer(adapter=adapter, counts=counts, trigger=_trigger(trigger))
    for plan in plans:
        writer.write(plan)
    # Every push that was due when this run started is covered by what it just read and wrote.
    ListingPush.objects.filter(store=store, requested_at__lte=started).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now())
    ).delete()
    ListingSync.objects.filter(pk=sync.pk).update(
        last_reconcile_at=timezone.now(), last_reconcile={**asdict(counts), "errors": counts.errors[:20]}
    )
    return counts


def _read_page(adapter: BaseChannelAdapter, cursor: str | None, counts: SyncCounts):
    """One page of listings; a 429 (Back Market blocks for 10 s) or a failure is waited out a few times before
    the run gives up, so a long reconcile does not start over for one bad moment."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return adapter.fetch_listings(cursor=cursor)
        except (ChannelRateLimited, ChannelUnavailable) as exc:
            if attempt == READ_ATTEMPTS - 1:
                raise
            wait = exc.retry_after if isinstance(exc, ChannelRateLimited) else 2.0 * (attempt + 1)
            logger.info("listing page read: %s; again in %.0f s", exc, wait)
            counts.requests += 1
            time.sleep(min(wait, 15.0))
    raise AssertionError("unreachable")


def _trigger(trigger: str) -> str:
    """The log's trigger for a run's trigger (manual and scheduled runs are both reconciles)."""
    return {"stock": "stock", "create": "create", "repricer": "repricer"}.get(trigger, "reconcile")


# --- real-time pushes -------------------------------------------------------------------------------


def _claim(store: Store, limit: int) -> tuple[list[ListingPush], datetime]:
    """Claim due pushes with a claim time unique to this worker (a conditional UPDATE, then read back)."""
    now = timezone.now()
    due = Q(next_attempt_at__lte=now) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(
        ListingPush.objects.filter(due, store=store).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    until = now + timedelta(seconds=CLAIM_SECONDS, microseconds=random.randrange(1, 999_999))  # noqa: S311
    if ids:
        ListingPush.objects.filter(due, pk__in=ids).update(claimed_until=until)
    return list(ListingPush.objects.filter(store=store, claimed_until=until).select_related("product")), until


def _finish(push: ListingPush) -> None:
    """Done: delete the row unless a newer change came in meanwhile (then it stays due, unclaimed)."""
    if not ListingPush.objects.filter(pk=push.pk, requested_at=push.requested_at).delete()[0]:
        ListingPush.objects.filter(pk=push.pk).update(claimed_until=None, next_attempt_at=timezone.now())


def _release(push: ListingPush, *, delay: float, error: str = "", failed: bool = False) -> None:
    ListingPush.objects.filter(pk=push.pk).update(
        claimed_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        attempts=push.attempts + (1 if failed else 0),
        last_error=error[:5000],
    )


def listing_pushes_deliver(*, store_id: int, adapter: BaseChannelAdapter | None = None) -> SyncCounts:
    """Deliver the store's due pushes: read each listing, write it if it differs from the target.
    ``next_due_in``: seconds until the store's next push is due (None: none left), for the task to come back."""
    store = _store(store_id)
    counts = SyncCounts()
    if _sync(store) is None:
        ListingPush.objects.filter(store=store).delete()
        return counts
    _deliver(store, adapter, counts)
    due = ListingPush.objects.filter(store=store).aggregate(at=Min("next_attempt_at"))["at"]
    counts.next_due_in = None if due is None else max(0.0, (due - timezone.now()).total_seconds())
    return counts


def _deliver(store: Store, adapter: BaseChannelAdapter | None, counts: SyncCounts) -> None:
    pushes, _ = _claim(store, settings.LISTING_PUSH_BATCH)
    if not pushes:
        return
    adapter = adapter or adapter_for_store(store)
    targets = listing_targets(
        store_id=store.pk, merchant_id=store.merchant_id, product_ids=[p.product_id for p in pushes]
    )
    bindings = {b.product_id: b for b in ListingBinding.objects.filter(store=store, product_id__in=targets)}
    currency = adapter.currency_for_market()
    writer = _Writer(adapter=adapter, counts=counts, trigger="stock")
    for index, push in enumerate(pushes):
        if writer.stopped:
            for rest in pushes[index:]:
                _release(rest, delay=counts.retry_in or 30, error=writer.stopped)
            counts.deferred += len(pushes) - index
            break
        try:
            outcome = _push_one(store, adapter, push, bindings.get(push.product_id), targets, currency, writer, counts)
        except ChannelAuthError:
            for rest in pushes[index:]:
                _release(rest, delay=15 * 60, error="Back Market refused the token.")
            raise
        except (ChannelRateLimited, ChannelUnavailable) as exc:  # the read failed
            delay = exc.retry_after if isinstance(exc, ChannelRateLimited) else retry_delay_seconds(push.attempts + 1)
            _release(push, delay=delay, error=exc.message, failed=True)
            counts.failed += 1
            writer.note_trouble(delay, message=exc.message, stop_now=isinstance(exc, ChannelRateLimited))
            continue
        if outcome in ("sent", "unchanged"):
            _finish(push)
        elif outcome == "deferred":
            _release(push, delay=counts.retry_in or 60, error="deferred")
        elif outcome == "retry":
            _release(push, delay=retry_delay_seconds(push.attempts + 1), error=counts.errors[-1], failed=True)
        else:  # refused: shown on the product; the reconcile tries again in 5 minutes
            _finish(push)


def _push_one(store, adapter, push, binding, targets, currency, writer, counts) -> str:
    product: Product = push.product
    counts.requests += 1
    if binding is None or not binding.listing_id:
        remote = adapter.fetch_listing(sku=product.sku)
        if remote is None:
            counts.unchanged += 1
            return "unchanged"  # not listed: listing creation's business, not a push's
    else:
        remote = adapter.fetch_listing(listing_ref=binding.listing_id)
        if remote is None:
            binding.store = store
            binding_record_failure(
                binding=binding,
                update=None,
                message="Back Market no longer has this listing.",
                trigger="stock",
            )
            counts.unchanged += 1
            return "unchanged"
    with transaction.atomic():
        binding = bindings_refresh(store=store, listings=[remote], trigger="stock")[0]
    binding.store = store
    if binding.product_id != product.pk:  # the SKU is bound to another product (renamed SKU): leave it
        counts.unchanged += 1
        return "unchanged"
    plan, _ = plan_for(binding=binding, target=targets.get(product.pk), currency=currency)
    if plan is None:
        counts.unchanged += 1
        return "unchanged"
    return writer.write(plan)


def stores_with_due_pushes() -> list[int]:
    now = timezone.now()
    return list(
        ListingPush.objects.filter(next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("store_id", flat=True)
        .distinct()
    )


def stores_due_for_listing_runs() -> dict[str, list[int]]:
    """Which stores' reconcile (5 min), creation (hourly, when switched on) and repricer (hourly) are due."""
    now = timezone.now()
    active = ListingSync.objects.filter(store__is_active=True).exclude(mode=ListingSync.Mode.OFF)
    reconcile_before = now - timedelta(minutes=settings.LISTING_RECONCILE_MINUTES)
    hour_ago = now - timedelta(hours=1)
    return {
        "reconcile": list(
            active.filter(Q(last_reconcile_at__isnull=True) | Q(last_reconcile_at__lte=reconcile_before)).values_list(
                "store_id", flat=True
            )
        ),
        "create": list(
            active.filter(create_listings=True)
            .filter(Q(last_create_at__isnull=True) | Q(last_create_at__lte=hour_ago))
            .values_list("store_id", flat=True)
        ),
        "reprice": list(
            active.filter(repricer=True)
            .filter(Q(last_reprice_at__isnull=True) | Q(last_reprice_at__lte=hour_ago))
            .values_list("store_id", flat=True)
        ),
    }
