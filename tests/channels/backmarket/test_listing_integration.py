"""Listing sync, creation and repricing against the Back Market sandbox over real HTTP, with faults.

What must hold whatever the faults: every listing ends where the catalog says, nothing is lost, and a
write that went through is not sent again (the next run reads Back Market first).
"""

import io
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import ListingBinding, ListingEvent, ListingPush, ListingSettings, ListingTask
from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from catalog.services.stock import stock_adjust
from channels.backmarket.sandbox import BackMarketSandbox
from channels.base import ChannelRateLimited, ChannelUnavailable
from channels.services.adapters import adapter_for_store
from channels.services.listing_create import listing_task_poll, listings_create
from channels.services.listing_reprice import listings_reprice
from channels.services.listing_sync import listing_pushes_deliver, listings_reconcile
from channels.services.stores import store_connect
from tests.catalog.conftest import make_product

pytestmark = pytest.mark.django_db

TOKEN = "c2FuZGJveDpsaXN0aW5ncy10b2tlbg=="
PRODUCT_UUID = "0b1c2d3e-4f50-4612-8734-9a5b6c7d8e9f"


@pytest.fixture
def sandbox():
    with BackMarketSandbox(token=TOKEN, seed=3, orders=0, task_delay=0.2, competitor_moves=False) as server:
        yield server


@pytest.fixture
def store(merchant, sandbox, settings):
    settings.CHANNEL_HTTP_READ_TIMEOUT = 1.0
    merchant.company_name = "Acme Refurb"
    merchant.save()
    store = store_connect(
        merchant=merchant,
        kind="back_market",
        name="Back Market FR",
        options={"region": "custom", "base_url": sandbox.base_url, "token": TOKEN},
    )
    listing_sync_configure(store=store, mode="quantities")
    return store


def listed(sandbox, store, merchant, skus_quantities, *, on_hand=5, price="199.00"):
    """Listings on Back Market and the same SKUs in the catalog (enabled, no safety quantity)."""
    products = {}
    for sku, quantity in skus_quantities:
        sandbox.add_listing(sku=sku, quantity=quantity, price=price, max_price="400.00")
        product = make_product(merchant, sku, on_hand=on_hand)
        listing_settings_save(store=store, product=product, enabled=True, price=Decimal(price))
        products[sku] = product
    return products


def writes(sandbox, sku=None) -> list:
    posts = [r for r in sandbox.requests if r.method == "POST" and r.path.startswith("/ws/listings/")]
    if sku is None:
        return posts
    uuid = sandbox.listing(sku)["id"]
    return [r for r in posts if r.path.rstrip("/").endswith(uuid)]


def run_command(name, store) -> str:
    out = io.StringIO()
    call_command(name, store=store.pk, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def test_sync_listings_command_over_http(sandbox, store, merchant):
    listed(sandbox, store, merchant, [("IPHONE-13-A", 2), ("IPHONE-13-B", 5), ("IPAD-9-A", 9)])
    sandbox.add_listing(sku="NOT-OURS-1", quantity=4, price="50.00")
    safety = ListingSettings.objects.get(product__sku="IPAD-9-A")
    safety.safety_quantity = 2
    safety.save()

    assert run_command("sync_listings", store) == "pushed 2 zeroed 1 unchanged 1 failed 0 deferred 0"

    assert [sandbox.listing(s)["quantity"] for s in ("IPHONE-13-A", "IPHONE-13-B", "IPAD-9-A", "NOT-OURS-1")] == [
        5,
        5,
        3,
        0,
    ]
    assert all(set(r.body) == {"quantity"} for r in writes(sandbox))  # quantities mode: never a price
    assert ListingBinding.objects.filter(store=store, product__isnull=False).count() == 3
    sandbox.clear_requests()
    assert run_command("sync_listings", store) == "pushed 0 zeroed 0 unchanged 4 failed 0 deferred 0"
    assert writes(sandbox) == []


def test_prices_go_in_the_markets_currency(sandbox, store, merchant):
    listing_sync_configure(store=store, mode="prices_and_quantities")
    products = listed(sandbox, store, merchant, [("PIXEL-7", 5)], price="199.00")
    listing_settings_save(store=store, product=products["PIXEL-7"], enabled=True, price=Decimal("189.90"))

    listings_reconcile(store_id=store.pk)

    [post] = writes(sandbox)
    assert post.body == {"price": "189.90", "currency": "EUR"} and post.market == "fr-fr"
    assert Decimal(sandbox.listing("PIXEL-7")["price"]) == Decimal("189.90")


def test_faults_lose_nothing_and_send_nothing_twice(sandbox, store, merchant):
    skus = [f"SKU-{n}" for n in range(6)]
    changes = dict(zip(skus, (1, 2, 3, -1, -2, -3), strict=True))
    listed(sandbox, store, merchant, [(sku, 1) for sku in skus], on_hand=4)
    listings_reconcile(store_id=store.pk)  # binds them; every listing now shows 4
    sandbox.clear_requests()
    for sku, change in changes.items():
        stock_adjust(product=ListingSettings.objects.get(product__sku=sku).product, change=change)

    # Faults at precise moments, on the wire: the sandbox fails the next request(s) it receives.
    adapter = adapter_for_store(store)
    read, write = adapter.fetch_listing, adapter.push_listing
    before_read = {"SKU-0": {"status_500": 4}, "SKU-4": {"status_429": 1}}  # 4: the GET's transport retries too
    before_write = {"SKU-1": {"timeout": 1}, "SKU-3": {"status_500": 1}}  # the timed-out write is applied

    def faulty_read(*, listing_ref="", sku=""):
        binding = ListingBinding.objects.filter(listing_id=listing_ref).first()
        sandbox.inject(**before_read.pop(binding.sku if binding else sku, {}))
        return read(listing_ref=listing_ref, sku=sku)

    def faulty_write(update):
        sandbox.inject(**before_write.pop(update.sku, {}))
        return write(update)

    adapter.fetch_listing, adapter.push_listing = faulty_read, faulty_write
    sandbox.inject(timeout_seconds=1.5)  # longer than the client's 1 s read timeout
    first = listing_pushes_deliver(store_id=store.pk, adapter=adapter)

    # SKU-0's read failed, SKU-1's write timed out, SKU-2 went through, SKU-3's write failed, SKU-4's read got a
    # 429, which stops the delivery: SKU-5 waits.
    assert (first.pushed, first.failed, first.deferred) == (1, 4, 1)
    assert ListingPush.objects.count() == 5  # nothing lost: every other push is still due, backing off
    deadline = time.monotonic() + 5
    while sandbox.listing("SKU-1")["quantity"] != 6 and time.monotonic() < deadline:
        time.sleep(0.1)  # the held request finishes after the client gave up
    assert sandbox.listing("SKU-1")["quantity"] == 6  # Back Market applied the write we gave up on

    ListingPush.objects.update(next_attempt_at=timezone.now())  # the backoff is over
    second = listing_pushes_deliver(store_id=store.pk)

    assert (second.pushed, second.unchanged, second.failed) == (4, 1, 0)  # SKU-1 was read and left alone
    assert not ListingPush.objects.exists()
    assert {sku: sandbox.listing(sku)["quantity"] for sku in skus} == {s: 4 + c for s, c in changes.items()}
    for sku in skus:
        applied = [r for r in writes(sandbox, sku) if r.status == 200 or "timeout" in r.faults]
        assert len(applied) == 1, (sku, [(r.status, r.faults) for r in writes(sandbox, sku)])
    assert listings_reconcile(store_id=store.pk).line() == "pushed 0 zeroed 0 unchanged 6 failed 0 deferred 0"


def test_429_on_writes_defers_the_rest_and_the_next_run_finishes(sandbox, store, merchant):
    listed(sandbox, store, merchant, [(f"Q-{n}", 0) for n in range(4)], on_hand=2)
    sandbox.inject(status_429=0)
    original = sandbox.write_lines_per_hour
    sandbox.write_lines_per_hour = 2  # someone else used this token's hourly budget

    first = listings_reconcile(store_id=store.pk)
    assert first.pushed == 2 and first.deferred == 2
    assert ListingBinding.objects.exclude(deferred_reason="").count() == 2
    assert ListingEvent.objects.filter(kind="deferred").count() == 2

    sandbox.write_lines_per_hour = original
    later = listings_reconcile(store_id=store.pk)
    assert (later.pushed, later.unchanged, later.deferred) == (2, 2, 0)
    assert all(sandbox.listing(f"Q-{n}")["quantity"] == 2 for n in range(4))


def test_create_listings_command_binds_created_and_reports_refused_rows(sandbox, store, merchant):
    offer = next(o for o in sandbox.catalog_offers() if not o.get("listed"))
    good = make_product(merchant, offer["sku"], on_hand=3)
    listing_settings_save(
        store=store,
        product=good,
        enabled=True,
        safety_quantity=1,
        price=Decimal("249.00"),
        backmarket_id=offer["product_id"],
        grade=1,
        warranty_months=12,
    )
    bad = make_product(merchant, "NO-SUCH-PRODUCT", on_hand=3)
    listing_settings_save(
        store=store, product=bad, enabled=True, price=Decimal("99.00"), backmarket_id=PRODUCT_UUID, grade=2
    )
    out, err = io.StringIO(), io.StringIO()

    call_command("create_listings", store=store.pk, wait=20, stdout=out, stderr=err)

    assert out.getvalue().strip().splitlines()[-1] == "created 1 failed 1 pending 0"
    created = sandbox.listing(offer["sku"])
    assert created["quantity"] == 2 and created["grade"] == "VERY_GOOD"
    assert ListingBinding.objects.get(store=store, product=good).listing_id == created["id"]
    assert ListingSettings.objects.get(product=bad).creation_error
    assert "NO-SUCH-PRODUCT" in err.getvalue()
    [csv_post] = [r for r in sandbox.requests if r.method == "POST" and r.path.rstrip("/") == "/ws/listings"]
    header = csv_post.body["catalog"].splitlines()[0]
    assert header.startswith("sku,product_id,backmarket_id,quantity,warranty_delay,price,currency,grade")

    out = io.StringIO()
    call_command("create_listings", store=store.pk, stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip().splitlines()[-1] == "created 0 failed 0 pending 1"  # the refused one, again


def test_reprice_command_over_http(sandbox, store, merchant):
    listing_sync_configure(store=store, mode="prices_and_quantities", repricer=True)
    listed(sandbox, store, merchant, [("CHASE-1", 5), ("CHEAP-1", 5), ("LIMITED-1", 5), ("WIN-1", 5)], price="200.00")
    for row in ListingSettings.objects.all():
        row.min_price = Decimal("150.00")
        row.save()
    listings_reconcile(store_id=store.pk)
    sandbox.set_competitors("WIN-1", [{"market": "FR", "is_winning": True, "price_to_win": "199.00"}])
    sandbox.set_competitors("CHASE-1", [{"market": "FR", "is_winning": False, "price_to_win": "179.00"}])
    sandbox.set_competitors("CHEAP-1", [{"market": "FR", "is_winning": False, "price_to_win": "120.00"}])
    sandbox.set_competitors("LIMITED-1", [{"market": "FR", "is_winning": False, "price_to_win": "170.00"}])
    sandbox.clear_requests()
    adapter = adapter_for_store(store)
    competitors = adapter.fetch_competitors

    def throttled(listing_ref):  # Back Market's Backbox answers 429 for this one listing
        if listing_ref == sandbox.listing("LIMITED-1")["id"]:
            sandbox.inject(status_429=1)
        return competitors(listing_ref)

    adapter.fetch_competitors = throttled
    counts = listings_reprice(store_id=store.pk, adapter=adapter)

    assert counts.line() == "changed 1 kept 1 below_min 1 failed 1"
    assert Decimal(sandbox.listing("LIMITED-1")["price"]) == Decimal("200.00")  # untouched, tried next hour
    assert "429" in ListingEvent.objects.get(kind="reprice", sku="LIMITED-1").message
    backbox = [r for r in sandbox.requests if r.path.startswith("/ws/backbox/")]
    assert len(backbox) == 4 and all(r.path.count("-") == 4 for r in backbox)  # by listing UUID

    assert Decimal(sandbox.listing("CHASE-1")["price"]) == Decimal("179.00")
    assert Decimal(sandbox.listing("WIN-1")["price"]) == Decimal("200.00")
    assert Decimal(sandbox.listing("CHEAP-1")["price"]) == Decimal("200.00")
    decision = ListingEvent.objects.get(kind="reprice", sku="CHASE-1")
    assert (decision.price_before, decision.price_after, decision.competitor_price) == (
        Decimal("200.00"),
        Decimal("179.00"),
        Decimal("179.00"),
    )


def test_configure_store_command(store):
    out = io.StringIO()
    call_command(
        "configure_store",
        store=store.pk,
        listing_sync="prices_and_quantities",
        repricer="on",
        auto_accept="off",
        import_interval=10,
        stdout=out,
    )
    assert out.getvalue().strip() == (
        f"store {store.pk} (Back Market FR): listing-sync prices_and_quantities repricer on auto-accept off "
        "import-interval 10"
    )


def test_reprice_command_prints_the_counts(sandbox, store, merchant):
    listing_sync_configure(store=store, mode="quantities", repricer=True)
    listed(sandbox, store, merchant, [("ALONE-1", 5)], price="180.00")
    listing_settings_save(
        store=store,
        product=ListingSettings.objects.get().product,
        enabled=True,
        price=Decimal("200.00"),
        min_price=Decimal("150.00"),
    )
    listings_reconcile(store_id=store.pk)
    sandbox.set_competitors("ALONE-1", [])  # alone in its Backbox: winning
    assert run_command("reprice", store) == "changed 0 kept 1 below_min 0 failed 0"


def test_creation_survives_faults_without_losing_or_doubling_a_listing(sandbox, store, merchant):
    offer = next(o for o in sandbox.catalog_offers() if not o.get("listed"))
    product = make_product(merchant, offer["sku"], on_hand=2)
    listing_settings_save(
        store=store, product=product, enabled=True, price=Decimal("219.00"), backmarket_id=offer["product_id"], grade=2
    )
    sandbox.inject(status_500=1)  # the file is refused by a server error: no task, nothing recorded as sent
    with pytest.raises(ChannelUnavailable):
        listings_create(store_id=store.pk)
    assert not ListingTask.objects.exists()

    counts = listings_create(store_id=store.pk)  # the next hourly run
    assert counts.submitted == 1
    time.sleep(0.3)  # the sandbox's task_delay
    sandbox.inject(status_429=1)
    with pytest.raises(ChannelRateLimited):  # the poll task retries later
        listing_task_poll(task_pk=counts.task.pk)
    task = listing_task_poll(task_pk=counts.task.pk)

    assert (task.status, task.created, task.failed) == ("succeeded", 1, 0)
    assert sandbox.listing(offer["sku"])["quantity"] == 2
    assert len([r for r in sandbox.requests if r.method == "POST" and r.path.rstrip("/") == "/ws/listings"]) == 2
    assert listings_create(store_id=store.pk).submitted == 0  # listed now: never submitted again
