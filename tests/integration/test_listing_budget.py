"""Two workers, one Back Market token: the hourly budget of listing lines holds across them, and price
changes leave the reserve to quantity pushes. The budget lives in Redis, as in production."""

import os
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connections

from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from channels.services.listing_sync import listings_reconcile
from shipping.core.ratelimit import RedisRateLimiter
from tests.catalog.conftest import make_product
from tests.channels.listing_fakes import FakeListings
from tests.factories import StoreFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
REDIS_URL = os.environ.get("REDIS_URL", "")


def test_two_workers_share_the_hourly_budget_and_quantities_come_first(merchant):
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    limiter = RedisRateLimiter(REDIS_URL, key_prefix=f"test-budget-{uuid.uuid4().hex}:")
    prices = StoreFactory(merchant=merchant, kind="back_market", name="prices")
    quantities = StoreFactory(merchant=merchant, kind="back_market", name="quantities")
    listing_sync_configure(store=prices, mode="prices_and_quantities")
    listing_sync_configure(store=quantities, mode="quantities")
    fakes = {}
    for store, label in ((prices, "P"), (quantities, "Q")):
        # Both stores use the same token: one budget of 10 lines, 4 of them kept for quantities.
        fake = FakeListings(lines_per_hour=10, quantity_reserve=4, limiter=limiter, key="one-token")
        fake.page_size = 50
        for n in range(12):
            product = make_product(merchant, f"{label}-{n:02}", on_hand=3)
            listing_settings_save(store=store, product=product, enabled=True, price=Decimal("99.00"))
            # The prices store needs only price changes; the quantities store only quantity changes.
            fake.add(product.sku, 3 if label == "P" else 1, price="80.00")
        fakes[store.pk] = fake
    results, errors = {}, []

    def worker(store_id):
        try:
            results[store_id] = listings_reconcile(store_id=store_id, adapter=fakes[store_id])
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(store.pk,)) for store in (prices, quantities)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    price_writes = len(fakes[prices.pk].writes)
    quantity_writes = len(fakes[quantities.pk].writes)
    assert price_writes + quantity_writes == 10  # never more than the budget, across both workers
    assert price_writes <= 6  # prices never touch the 4 lines kept for quantities
    assert quantity_writes >= 4
    assert results[prices.pk].deferred == 12 - price_writes
    assert results[quantities.pk].deferred == 12 - quantity_writes
    assert limiter.window_used("one-token:lines", window=3600) == 10
