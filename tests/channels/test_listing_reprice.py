"""The repricer: the rule as a table, then a pass over a store with its decisions logged."""

from decimal import Decimal

import pytest

from catalog.models import ListingBinding, ListingEvent
from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from channels.base import Competitor
from channels.services.listing_reprice import listings_reprice, reprice_decision
from channels.services.listing_sync import listings_reconcile
from tests.catalog.conftest import make_product
from tests.factories import StoreFactory

from .listing_fakes import FakeListings, rate_limited

D = Decimal


def entry(price_to_win: str | None, winning: bool = False) -> Competitor:
    return Competitor(
        market="US",
        is_winning=winning,
        price_to_win=D(price_to_win) if price_to_win else None,
        currency="USD",
    )


@pytest.mark.parametrize(
    ("case", "current", "competitor", "max_price", "outcome", "price"),
    [
        ("winning: leave it", "180.00", entry("175.00", winning=True), None, "kept", None),
        ("in range: the price to win", "200.00", entry("185.50"), None, "changed", "185.50"),
        ("in range, already there", "185.50", entry("185.50"), None, "kept", None),
        ("exactly the minimum", "200.00", entry("150.00"), None, "changed", "150.00"),
        ("below the minimum: back to default", "160.00", entry("149.99"), None, "below_min", "200.00"),
        ("below the minimum, at default already", "200.00", entry("120.00"), None, "below_min", None),
        ("above the default: the default", "170.00", entry("230.00"), None, "changed", "200.00"),
        ("in range but above max_price: capped", "200.00", entry("190.00"), "180.00", "changed", "180.00"),
        ("default above max_price: capped", "150.00", None, "170.00", "changed", "170.00"),
        ("max_price below the minimum: left alone", "150.00", entry("190.00"), "140.00", "kept", None),
        ("no competitors: the default", "160.00", None, None, "changed", "200.00"),
        ("no price to win given: the default", "160.00", entry(None), None, "changed", "200.00"),
    ],
)
def test_reprice_rule(case, current, competitor, max_price, outcome, price):
    decision = reprice_decision(
        current=D(current),
        default=D("200.00"),
        minimum=D("150.00"),
        max_price=D(max_price) if max_price else None,
        competitor=competitor,
    )
    assert (decision.outcome, decision.price) == (outcome, D(price) if price else None), case
    assert decision.price is None or D("150.00") <= decision.price <= D(max_price or "200.00")


def test_minimum_defaults_to_the_default_price():
    decision = reprice_decision(
        current=D("200.00"), default=D("200.00"), minimum=None, max_price=None, competitor=entry("190.00")
    )
    assert decision.outcome == "below_min" and decision.price is None


@pytest.mark.django_db
def test_a_pass_records_every_decision_and_counts_them(merchant):
    store = StoreFactory(merchant=merchant, kind="back_market", config={"market": "en-us"})
    listing_sync_configure(store=store, mode="prices_and_quantities", repricer=True)
    fake = FakeListings()
    refs = {}
    for sku, current in (("WIN", "180.00"), ("RANGE", "200.00"), ("LOW", "170.00"), ("LIMITED", "200.00")):
        product = make_product(merchant, sku, on_hand=1)
        listing_settings_save(store=store, product=product, enabled=True, price=D("200.00"), min_price=D("150.00"))
        refs[sku] = fake.add(sku, 1, price=current)
    listings_reconcile(store_id=store.pk, adapter=fake)  # binds the listings; prices are the repricer's
    assert fake.writes == []
    fake.competitors = {
        refs["WIN"]: [entry("175.00", winning=True)],
        refs["RANGE"]: [Competitor(market="FR", is_winning=False, price_to_win=D("1.00")), entry("181.00")],
        refs["LOW"]: [entry("99.00")],
        refs["LIMITED"]: rate_limited(),
    }

    counts = listings_reprice(store_id=store.pk, adapter=fake)

    assert counts.line() == "changed 1 kept 1 below_min 1 failed 1"
    assert fake.by_sku("RANGE")["price"] == D("181.00")  # the US entry, not the FR one
    assert fake.by_sku("LOW")["price"] == D("200.00")
    assert fake.by_sku("WIN")["price"] == D("180.00")
    decisions = {e.sku: e for e in ListingEvent.objects.filter(kind="reprice")}
    assert decisions["RANGE"].price_before == D("200.00") and decisions["RANGE"].price_after == D("181.00")
    assert decisions["RANGE"].competitor_price == D("181.00")
    assert decisions["LOW"].outcome == "below_min" and decisions["LOW"].competitor_price == D("99.00")
    assert "429" in decisions["LIMITED"].message and decisions["LIMITED"].outcome == "failed"
    assert ListingBinding.objects.get(sku="WIN").buybox_winning is True
    assert ListingBinding.objects.get(sku="RANGE").buybox_price_to_win == D("181.00")


@pytest.mark.django_db
def test_repricer_off_does_nothing(merchant):
    store = StoreFactory(merchant=merchant, kind="back_market")
    listing_sync_configure(store=store, mode="quantities", repricer=False)
    fake = FakeListings()
    assert listings_reprice(store_id=store.pk, adapter=fake).line() == "changed 0 kept 0 below_min 0 failed 0"
    assert fake.calls == []
