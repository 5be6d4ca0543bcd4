"""The listing sync against an in-memory marketplace: formula, what is written and what is not, budget,
deferral, faults. (tests/channels/backmarket/test_listing_integration.py runs it over HTTP.)"""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.models import ListingBinding, ListingEvent, ListingPush, ListingSync
from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from catalog.services.stock import stock_adjust
from catalog.targets import quantity_to_list
from channels.base import ChannelRejected
from channels.services.listing_sync import listing_pushes_deliver, listings_reconcile
from tests.catalog.conftest import ext_order, import_one, make_product
from tests.factories import StoreFactory

from .listing_fakes import FakeListings, rate_limited, unavailable


@pytest.fixture
def bm(merchant):
    store = StoreFactory(merchant=merchant, kind="back_market", name="Back Market", config={"market": "en-us"})
    listing_sync_configure(store=store, mode="quantities")
    return store


def enable(store, product, **fields):
    values = {"enabled": True, "safety_quantity": 0, "price": Decimal("100.00")} | fields
    return listing_settings_save(store=store, product=product, **values)


@pytest.mark.parametrize(
    ("available", "safety", "enabled", "expected"),
    [(10, 0, True, 10), (10, 3, True, 7), (2, 3, True, 0), (-4, 0, True, 0), (10, 0, False, 0), (0, 0, True, 0)],
)
def test_quantity_formula(available, safety, enabled, expected):
    assert quantity_to_list(available=available, safety_quantity=safety, enabled=enabled) == expected


@pytest.mark.django_db
def test_reconcile_sends_available_minus_safety_and_zeroes_unknown_skus_once(merchant, bm):
    phone = make_product(merchant, "PHONE-1", on_hand=10)
    enable(bm, phone, safety_quantity=2)
    tablet = make_product(merchant, "TAB-1", on_hand=5)
    enable(bm, tablet, enabled=False)
    fake = FakeListings()
    fake.add("phone-1", 3)  # SKUs compare case-insensitively
    fake.add("TAB-1", 4)
    fake.add("GHOST-9", 6)  # listed on Back Market, unknown to the catalog

    counts = listings_reconcile(store_id=bm.pk, adapter=fake)

    assert (fake.by_sku("PHONE-1")["quantity"], fake.by_sku("TAB-1")["quantity"]) == (8, 0)
    assert fake.by_sku("GHOST-9")["quantity"] == 0
    assert (counts.pushed, counts.zeroed, counts.unchanged, counts.failed, counts.deferred) == (2, 1, 0, 0, 0)
    assert ListingBinding.objects.get(sku="phone-1").product == phone
    assert ListingBinding.objects.get(sku="GHOST-9").product is None
    assert ListingEvent.objects.filter(kind="zero", sku="GHOST-9").count() == 1

    fake.writes.clear()
    again = listings_reconcile(store_id=bm.pk, adapter=fake)
    assert fake.writes == []  # unchanged listings cost no write; the unknown SKU is not zeroed again
    assert (again.pushed, again.zeroed, again.unchanged) == (0, 0, 3)
    assert ListingEvent.objects.filter(kind="zero").count() == 1


@pytest.mark.django_db
def test_quantities_mode_never_sends_a_price_and_prices_mode_does(merchant, bm):
    phone = make_product(merchant, "PHONE-1", on_hand=4)
    enable(bm, phone, price=Decimal("149.50"))
    fake = FakeListings()
    fake.add("PHONE-1", 1, price="120.00")

    listings_reconcile(store_id=bm.pk, adapter=fake)
    assert fake.writes == [{"sku": "PHONE-1", "quantity": 4}]

    listing_sync_configure(store=bm, mode="prices_and_quantities")
    fake.writes.clear()
    listings_reconcile(store_id=bm.pk, adapter=fake)
    assert fake.writes == [{"sku": "PHONE-1", "price": Decimal("149.50"), "currency": "USD"}]

    listing_sync_configure(store=bm, repricer=True)  # the repricer owns prices now
    enable(bm, phone, price=Decimal("155.00"))
    fake.writes.clear()
    listings_reconcile(store_id=bm.pk, adapter=fake)
    assert fake.writes == []


@pytest.mark.django_db
def test_price_above_max_price_is_not_sent_and_says_why(merchant, bm):
    listing_sync_configure(store=bm, mode="prices_and_quantities")
    phone = make_product(merchant, "PHONE-1", on_hand=1)
    enable(bm, phone, price=Decimal("900.00"))
    fake = FakeListings()
    fake.add("PHONE-1", 1, price="500.00", max_price="800.00")

    listings_reconcile(store_id=bm.pk, adapter=fake)

    assert fake.writes == []
    assert "max_price" in ListingBinding.objects.get(sku="PHONE-1").last_error


@pytest.mark.django_db
def test_stock_change_writes_a_push_row_and_delivery_reads_before_writing(
    merchant, bm, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("celery.current_app.send_task", lambda name, args=None, **kw: sent.append((name, args)))
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    fake = FakeListings()
    ref = fake.add("PHONE-1", 5)
    ListingPush.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product=phone, change=-2, note="broken screen")
    assert ListingPush.objects.filter(store=bm, product=phone).count() == 1
    assert sent == [("channels.tasks.push_listings", [bm.pk])]

    counts = listing_pushes_deliver(store_id=bm.pk, adapter=fake)
    assert fake.calls == [("get", "PHONE-1"), ("post", "PHONE-1")]
    assert fake.listings[ref]["quantity"] == 3
    assert counts.pushed == 1
    assert not ListingPush.objects.exists()


@pytest.mark.django_db
def test_a_back_market_sale_already_taken_off_costs_no_write(merchant, bm, django_capture_on_commit_callbacks):
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    fake = FakeListings()
    ref = fake.add("PHONE-1", 5)
    listings_reconcile(store_id=bm.pk, adapter=fake)
    fake.listings[ref]["quantity"] = 4  # Back Market sold one and took it off itself
    fake.calls.clear()

    import_one(bm, ext_order("9001", ("PHONE-1", 1)))
    listing_pushes_deliver(store_id=bm.pk, adapter=fake)

    assert fake.calls == [("get", fake.calls[0][1])]  # read, compared, nothing written
    assert fake.writes == []


@pytest.mark.django_db
def test_many_changes_before_delivery_are_one_push(merchant, bm):
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    fake = FakeListings()
    ref = fake.add("PHONE-1", 5)
    for _ in range(4):
        stock_adjust(product=phone, change=-1)
    assert ListingPush.objects.count() == 1
    listing_pushes_deliver(store_id=bm.pk, adapter=fake)
    assert [w["quantity"] for w in fake.writes] == [1]
    assert fake.listings[ref]["quantity"] == 1


@pytest.mark.django_db
def test_a_change_during_delivery_keeps_the_push_due(merchant, bm):
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    fake = FakeListings()
    fake.add("PHONE-1", 9)
    original = fake.push_listing

    def push_then_sell(update):
        result = original(update)
        with transaction.atomic():
            stock_adjust(product=phone, change=-1)  # committed while the write was in flight
        return result

    fake.push_listing = push_then_sell
    listing_pushes_deliver(store_id=bm.pk, adapter=fake)
    assert ListingPush.objects.filter(product=phone).exists()  # not lost: sent by the next delivery
    fake.push_listing = original
    listing_pushes_deliver(store_id=bm.pk, adapter=fake)
    assert fake.by_sku("PHONE-1")["quantity"] == 4
    assert not ListingPush.objects.exists()


@pytest.mark.django_db
def test_hourly_budget_goes_to_quantities_first_and_defers_prices_visibly(merchant, bm):
    listing_sync_configure(store=bm, mode="prices_and_quantities")
    fake = FakeListings(lines_per_hour=4, quantity_reserve=1)
    for n in range(3):  # price-only changes, listed first alphabetically
        product = make_product(merchant, f"A-PRICE-{n}", on_hand=2)
        enable(bm, product, price=Decimal("200.00"))
        fake.add(product.sku, 2, price="150.00")
    for n in range(3):  # quantity changes
        product = make_product(merchant, f"Z-QTY-{n}", on_hand=7)
        enable(bm, product, price=Decimal("150.00"))
        fake.add(product.sku, 1, price="150.00")

    counts = listings_reconcile(store_id=bm.pk, adapter=fake)

    assert [w["sku"] for w in fake.writes] == ["Z-QTY-0", "Z-QTY-1", "Z-QTY-2"]  # the reserve kept for them
    assert (counts.pushed, counts.deferred) == (3, 3)
    deferred = ListingBinding.objects.exclude(deferred_reason="").order_by("sku")
    assert [b.sku for b in deferred] == ["A-PRICE-0", "A-PRICE-1", "A-PRICE-2"]
    assert "kept for quantity changes" in deferred[0].deferred_reason
    assert ListingEvent.objects.filter(kind="deferred").count() == 3

    fake.limiter = type(fake.limiter)()  # an hour later
    later = listings_reconcile(store_id=bm.pk, adapter=fake)
    assert later.pushed == 3 and later.deferred == 0
    assert not ListingBinding.objects.exclude(deferred_reason="").exists()
    assert ListingEvent.objects.filter(kind="deferred").count() == 3  # logged once, not every run


@pytest.mark.django_db
def test_429_stops_the_writes_and_defers_the_rest(merchant, bm):
    fake = FakeListings()
    for n in range(4):
        product = make_product(merchant, f"SKU-{n}", on_hand=3)
        enable(bm, product)
        fake.add(product.sku, 0)
    fake.fail_writes = [None, rate_limited()]

    counts = listings_reconcile(store_id=bm.pk, adapter=fake)

    assert [c for c in fake.calls if c[0] == "post"] == [("post", "SKU-0"), ("post", "SKU-1")]  # none after the 429
    assert (counts.pushed, counts.deferred) == (1, 3)
    again = listings_reconcile(store_id=bm.pk, adapter=fake)
    assert (again.pushed, again.unchanged) == (3, 1)
    assert all(v["quantity"] == 3 for v in fake.listings.values())


@pytest.mark.django_db
def test_push_read_failure_backs_off_and_retries_without_losing_the_push(merchant, bm):
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    fake = FakeListings()
    fake.add("PHONE-1", 1)
    fake.fail_next = [unavailable()]

    counts = listing_pushes_deliver(store_id=bm.pk, adapter=fake)

    push = ListingPush.objects.get()
    assert counts.failed == 1 and push.attempts == 1 and push.next_attempt_at > push.requested_at
    assert fake.writes == []
    ListingPush.objects.update(next_attempt_at=push.requested_at)  # time passes
    listing_pushes_deliver(store_id=bm.pk, adapter=fake)
    assert fake.by_sku("PHONE-1")["quantity"] == 5
    assert not ListingPush.objects.exists()


@pytest.mark.django_db
def test_refused_write_is_shown_on_the_binding_once(merchant, bm):
    listing_sync_configure(store=bm, mode="prices_and_quantities")
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    fake = FakeListings()
    fake.add("PHONE-1", 1)
    fake.fail_writes = [ChannelRejected("Back Market refused the update of PHONE-1: quantity too high")]
    counts = listings_reconcile(store_id=bm.pk, adapter=fake)
    assert counts.failed == 1
    binding = ListingBinding.objects.get()
    assert "quantity too high" in binding.last_error
    assert ListingEvent.objects.filter(kind="failed").count() == 1


@pytest.mark.django_db
def test_sync_off_sends_nothing_and_drops_pushes(merchant, bm):
    phone = make_product(merchant, "PHONE-1", on_hand=5)
    enable(bm, phone)
    listing_sync_configure(store=bm, mode="off")
    fake = FakeListings()
    fake.add("PHONE-1", 1)
    assert listings_reconcile(store_id=bm.pk, adapter=fake).read == 0
    stock_adjust(product=phone, change=1)
    listing_pushes_deliver(store_id=bm.pk, adapter=fake)
    assert fake.calls == []
    assert ListingSync.objects.get(store=bm).mode == "off"


@pytest.mark.django_db
def test_a_product_without_settings_or_listing_costs_no_push(merchant, bm):
    loose = make_product(merchant, "LOOSE-1", on_hand=3)  # neither enabled nor listed: nothing to move
    stock_adjust(product=loose, change=1)
    assert not ListingPush.objects.exists()
    ListingBinding.objects.create(store=bm, product=loose, sku="LOOSE-1", listing_id="0f0e0d0c", remote_quantity=4)
    stock_adjust(product=loose, change=1)  # listed on Back Market: it goes to 0 (no settings = not enabled)
    assert ListingPush.objects.filter(store=bm, product=loose).exists()
