"""An order import moves the quantity on Back Market within seconds, through a real Celery worker.

The worker runs the import (fake marketplace), the stock allocation writes a listing push in the same
transaction, and the push task, scheduled on commit, reads the Back Market sandbox's listing over HTTP
and writes the new quantity. A Back Market sale, which Back Market has already taken off, costs a read
and no write.
"""

import time
from decimal import Decimal

import pytest

from catalog.models import ListingPush
from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from channels.backmarket.sandbox import BackMarketSandbox
from channels.models import SyncRun
from channels.services.listing_sync import listings_reconcile
from channels.services.stores import store_connect
from channels.tasks import dispatch_order_imports, import_orders_for_store
from tests.catalog.conftest import make_product
from tests.conftest import fake_order

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TOKEN = "c2FuZGJveDp3b3JrZXItdG9rZW4="


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def sandbox():
    with BackMarketSandbox(token=TOKEN, seed=5, orders=0, competitor_moves=False) as server:
        yield server


@pytest.fixture
def bm_store(merchant, sandbox):
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


def _listed(sandbox, bm_store, merchant, sku: str, *, on_hand: int, safety: int = 0):
    sandbox.add_listing(sku=sku, quantity=on_hand - safety, price="329.00")
    product = make_product(merchant, sku, on_hand=on_hand)
    listing_settings_save(store=bm_store, product=product, enabled=True, safety_quantity=safety, price=Decimal("329"))
    listings_reconcile(store_id=bm_store.pk)  # bound, and in step
    ListingPush.objects.all().delete()
    sandbox.clear_requests()
    return product


def test_an_order_from_another_channel_reaches_back_market_within_seconds(
    merchant, store, market, sandbox, bm_store, celery_worker_thread
):
    _listed(sandbox, bm_store, merchant, "IPH13-128", on_hand=6, safety=1)
    assert sandbox.listing("IPH13-128")["quantity"] == 5
    market.put(fake_order("501", minutes_ago=5, lines=[{"id": "501-1", "sku": "IPH13-128", "name": "iPhone 13",
                                                         "qty": 2, "price": "329.00"}]))  # fmt: skip

    import_orders_for_store.delay(store.pk)
    assert _wait_for(lambda: SyncRun.objects.filter(store=store, status="succeeded").exists())
    imported_at = time.monotonic()
    assert _wait_for(lambda: sandbox.listing("IPH13-128")["quantity"] == 3, timeout=20)
    seconds = time.monotonic() - imported_at

    posts = [r for r in sandbox.requests if r.method == "POST" and r.path.startswith("/ws/listings/")]
    assert [r.body for r in posts] == [{"quantity": 3}]  # 6 on hand - 2 allocated - safety 1
    assert _wait_for(lambda: not ListingPush.objects.exists(), timeout=10)
    print(f"quantity on Back Market {seconds:.2f} s after the import committed")


def test_a_back_market_sale_costs_a_read_and_no_write(merchant, sandbox, bm_store, celery_worker_thread):
    _listed(sandbox, bm_store, merchant, "PIXEL-7-128", on_hand=4)
    sandbox.add_order(state=1, lines=[{"listing": "PIXEL-7-128", "quantity": 1}])
    assert sandbox.listing("PIXEL-7-128")["quantity"] == 3  # Back Market took its sale off

    dispatch_order_imports.delay()
    assert _wait_for(lambda: SyncRun.objects.filter(store=bm_store, status="succeeded").exists())
    assert _wait_for(lambda: not ListingPush.objects.exists(), timeout=20)

    reads = [r for r in sandbox.requests if r.method == "GET" and r.path.startswith("/ws/listings/")]
    posts = [r for r in sandbox.requests if r.method == "POST" and r.path.startswith("/ws/listings/")]
    assert reads and posts == []
    assert sandbox.listing("PIXEL-7-128")["quantity"] == 3
