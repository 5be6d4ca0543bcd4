"""The repricer: once an hour, each bound listing's price moves towards the buybox, within the
merchant's minimum and default price, never above the listing's max_price. Every decision is logged.

Per listing, from Back Market's Backbox (the store's market):
  winning                                -> kept (leave a winning price alone)
  no competitors                         -> the default price
  price to win in [minimum, default]     -> the price to win
  price to win below the minimum         -> the default price ("below_min": not worth chasing)
  price to win above the default         -> the default price
and whatever the decision, never above max_price (Back Market takes a listing offline above it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog.models import ListingBinding, ListingEvent, ListingSettings, ListingSync
from catalog.services.listing_records import binding_record_buybox, binding_record_write, listing_event

from ..base import (
    BaseChannelAdapter,
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    Competitor,
    ListingUpdate,
)
from ..models import Store
from .adapters import adapter_for_store

CENT = Decimal("0.01")
Kind, Trigger = ListingEvent.Kind, ListingEvent.Trigger


@dataclass
class RepriceCounts:
    changed: int = 0
    kept: int = 0
    below_min: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"changed {self.changed} kept {self.kept} below_min {self.below_min} failed {self.failed}"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # changed | kept | below_min
    price: Decimal | None  # the price the listing should have (None: leave it)
    reason: str


def _cap(price: Decimal, max_price: Decimal | None) -> Decimal:
    return min(price, max_price) if max_price is not None else price


def reprice_decision(
    *,
    current: Decimal | None,
    default: Decimal,
    minimum: Decimal | None,
    max_price: Decimal | None,
    competitor: Competitor | None,
) -> Decision:
    """The rule, as a pure function (the table in the module docstring)."""
    floor = minimum if minimum is not None else default
    if competitor is not None and competitor.is_winning:
        return Decision("kept", None, "Winning the buybox: price left alone.")
    if competitor is None or competitor.price_to_win is None:
        target, reason, outcome = default, "No competitors: the default price.", "changed"
    elif competitor.price_to_win < floor:
        target, outcome = default, "below_min"
        reason = f"The price to win {competitor.price_to_win} is below the minimum {floor}: the default price."
    elif competitor.price_to_win > default:
        target, outcome = default, "changed"
        reason = f"The price to win {competitor.price_to_win} is above the default price: the default price."
    else:
        target, outcome = competitor.price_to_win, "changed"
        reason = f"The price to win {competitor.price_to_win} is within {floor}..{default}."
    capped = _cap(target, max_price)
    if capped != target:
        reason += f" Capped at max_price {max_price}."
    if capped < floor:
        return Decision("kept", None, f"max_price {max_price} is below the minimum {floor}: price left alone.")
    if current is not None and capped.quantize(CENT) == current.quantize(CENT):
        return Decision("below_min" if outcome == "below_min" else "kept", None, reason + " Already there.")
    return Decision(outcome, capped.quantize(CENT), reason)


def _market_entry(competitors: list[Competitor], market: str) -> Competitor | None:
    """The Backbox entry of the store's market ("fr-fr" matches "FR" or "fr-fr"); else the first."""
    if not competitors:
        return None
    country = market.split("-")[-1].lower()
    for entry in competitors:
        if entry.market.lower() in (market.lower(), country):
            return entry
    return competitors[0]


def listings_reprice(*, store_id: int, adapter: BaseChannelAdapter | None = None) -> RepriceCounts:
    store = Store.objects.select_related("merchant").get(pk=store_id)
    counts = RepriceCounts()
    sync = ListingSync.objects.filter(store=store).first()
    if sync is None or not sync.repricer or not store.is_active:
        return counts
    ListingSync.objects.filter(pk=sync.pk).update(last_reprice_at=timezone.now())
    adapter = adapter or adapter_for_store(store)
    market = str(store.config.get("market") or "")
    currency = adapter.currency_for_market(market)
    settings = {
        row.product_id: row for row in ListingSettings.objects.filter(store=store, enabled=True, price__isnull=False)
    }
    bindings = (
        ListingBinding.objects.filter(store=store, product_id__in=settings).exclude(listing_id="").order_by("sku")
    )
    for binding in bindings:
        binding.store = store
        row = settings[binding.product_id]
        _reprice_one(adapter, binding, row, market, currency, counts)
    return counts


def _log(
    binding: ListingBinding, *, outcome: str, message: str, competitor: Competitor | None, new=None, before=None
) -> None:
    listing_event(
        store=binding.store,
        binding=binding,
        kind=Kind.REPRICE,
        trigger=Trigger.REPRICER,
        outcome=outcome,
        price_before=before if before is not None else binding.remote_price,
        price_after=new,
        competitor_price=competitor.price_to_win if competitor else None,
        currency=competitor.currency if competitor else "",
        message=message,
    )


def _reprice_one(adapter, binding, row, market, currency, counts: RepriceCounts) -> None:
    try:
        competitors = adapter.fetch_competitors(binding.listing_id)
    except ChannelAuthError:
        raise
    except ChannelError as exc:
        counts.failed += 1
        limited = isinstance(exc, ChannelRateLimited)
        _log(
            binding,
            outcome="failed",
            competitor=None,
            message=("Back Market's Backbox asked us to slow down (HTTP 429): " if limited else "")
            + f"{exc.message} Tried again next hour.",
        )
        return
    entry = _market_entry(competitors, market)
    binding_record_buybox(
        binding=binding, winning=entry.is_winning if entry else None, price_to_win=entry.price_to_win if entry else None
    )
    decision = reprice_decision(
        current=binding.remote_price,
        default=row.price,
        minimum=row.min_price,
        max_price=binding.max_price,
        competitor=entry,
    )
    if decision.price is None:
        setattr(counts, decision.outcome, getattr(counts, decision.outcome) + 1)
        _log(binding, outcome=decision.outcome, message=decision.reason, competitor=entry)
        return
    if adapter.reserve_listing_lines(1, low_priority=True) > 0:
        counts.failed += 1
        _log(
            binding,
            outcome="failed",
            competitor=entry,
            new=decision.price,
            message=decision.reason + " Not sent: the hourly budget of listing writes is kept for quantities.",
        )
        return
    update = ListingUpdate(sku=binding.sku, price=decision.price, currency=currency, listing_ref=binding.listing_id)
    try:
        after = adapter.push_listing(update)
    except ChannelAuthError:
        raise
    except ChannelError as exc:
        counts.failed += 1
        _log(
            binding, outcome="failed", competitor=entry, new=decision.price, message=f"{decision.reason} {exc.message}"
        )
        return
    before = binding.remote_price
    with transaction.atomic():
        binding_record_write(binding=binding, update=update, after=after, trigger=Trigger.REPRICER)
        _log(
            binding,
            outcome=decision.outcome,
            competitor=entry,
            new=decision.price,
            before=before,
            message=decision.reason,
        )
    setattr(counts, decision.outcome, getattr(counts, decision.outcome) + 1)
