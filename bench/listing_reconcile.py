"""A full listing reconcile of 10,000 products bound to Back Market listings, 1 % of them changed.

    python bench/listing_reconcile.py                      # PostgreSQL shipping_listing_bench on 127.0.0.1
    python bench/listing_reconcile.py --unthrottled        # without Back Market's 20 requests / 10 s
    DATABASE_URL=postgres://... python bench/listing_reconcile.py --products 10000 --changed 100

Runs against the Back Market sandbox over HTTP on this machine. Prints the seconds, the requests and
the writes the reconcile sent (and what the sandbox received), then the same for the real-time pushes
of the changed products. With Back Market's limits the reconcile is bound by the catalog limit: reading
10,000 listings is 200 pages, at most 20 requests per 10 s.
"""

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seeding import ensure_postgres_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shipping_listing_bench"
SLUG = "listing-bench"
TOKEN = "YmVuY2g6bGlzdGluZ3M="


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=None, help="default: 1 %% of the products")
    parser.add_argument("--unthrottled", action="store_true", help="lift the catalog limit (ours and the sandbox's)")
    args = parser.parse_args()
    changed = args.changed if args.changed is not None else max(1, args.products // 100)

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SHIPPING_VAR_DIR", str(Path(tempfile.gettempdir()) / "shipping-listing-bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipping.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from catalog.models import ListingBinding, ListingEvent, ListingPush, ListingSettings, Product, StockLevel
    from catalog.services.listing_settings import listing_sync_configure
    from catalog.services.stock import StockCount, stock_set_counts
    from channels.backmarket.sandbox import BackMarketSandbox
    from channels.models import Store
    from channels.services.listing_sync import listing_pushes_deliver, listings_reconcile
    from channels.services.stores import store_connect
    from shipping.accounts.models import Merchant
    from shipping.accounts.services import merchant_create_or_update

    limits = {}
    sandbox_limits = {}
    if args.unthrottled:
        limits = {"catalog_limit": 100_000, "listing_lines_per_hour": 1_000_000}
        sandbox_limits = {"catalog_limit": 100_000, "rate_limit": 100_000, "write_lines_per_hour": 1_000_000}
    settings.CHANNEL_LIMITS = {"back_market": limits}

    Merchant.objects.filter(slug=SLUG).delete()  # a fresh run every time: the sandbox starts empty too
    merchant = merchant_create_or_update(slug=SLUG, email=f"{SLUG}@example.com", password="listing-bench-123")
    merchant.company_name = "Bench Refurb"
    merchant.save()

    with BackMarketSandbox(token=TOKEN, seed=11, orders=0, competitor_moves=False, **sandbox_limits) as sandbox:
        started = time.perf_counter()
        skus = [f"BENCH-{n:06d}" for n in range(args.products)]
        for n, sku in enumerate(skus):
            sandbox.add_listing(sku=sku, quantity=5 + n % 7, price="199.00")
        store = store_connect(
            merchant=merchant,
            kind="back_market",
            name="Back Market bench",
            options={"region": "custom", "base_url": sandbox.base_url, "token": TOKEN},
        )
        with transaction.atomic():
            products = Product.objects.bulk_create(
                [Product(merchant=merchant, sku=sku, name=sku) for sku in skus], batch_size=2000
            )
            StockLevel.objects.bulk_create(
                [StockLevel(product=p, on_hand=5 + n % 7) for n, p in enumerate(products)], batch_size=2000
            )
            ListingSettings.objects.bulk_create(
                [ListingSettings(store=store, product=p, enabled=True, price=Decimal("199.00")) for p in products],
                batch_size=2000,
            )
        listing_sync_configure(store=store, mode="quantities")
        ListingPush.objects.filter(store=store).delete()
        print(f"seeded {args.products:,} listings and products in {time.perf_counter() - started:.0f} s "
              f"({connection.vendor}; limits: {'lifted' if args.unthrottled else 'Back Market'})")  # fmt: skip

        # One stock change, delivered as the worker does on commit (nothing else in the limiter's windows yet).
        with transaction.atomic():
            stock_set_counts(
                merchant_id=merchant.pk,
                counts=[StockCount(products[0].pk, None, 100)],
                reason="manual_adjustment",
            )
        started = time.perf_counter()
        single = listing_pushes_deliver(store_id=store.pk)
        print(f"one stock change to Back Market: {(time.perf_counter() - started) * 1000:.0f} ms, "
              f"{single.requests} requests ({single.writes} write)")  # fmt: skip

        started = time.perf_counter()
        first = listings_reconcile(store_id=store.pk)
        print(f"first reconcile (binds {ListingBinding.objects.filter(store=store).count():,}): "
              f"{time.perf_counter() - started:.1f} s, {first.requests} requests, {first.writes} writes")  # fmt: skip

        step = max(1, args.products // changed)
        counts = [
            StockCount(product_id=p.pk, warehouse_id=None, on_hand=(5 + (n * step) % 7) + 3)
            for n, p in enumerate(products[::step][:changed])
        ]
        with transaction.atomic():
            stock_set_counts(merchant_id=merchant.pk, counts=counts, reason="manual_adjustment")
        ListingPush.objects.filter(store=store).delete()  # the reconcile, not the pushes, is measured here
        sandbox.clear_requests()
        started = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            result = profile.runcall(listings_reconcile, store_id=store.pk)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        else:
            result = listings_reconcile(store_id=store.pk)
        seconds = time.perf_counter() - started
        received = sandbox.requests
        posts = [r for r in received if r.method == "POST"]
        print(f"\nfull reconcile, {changed} of {args.products:,} changed:")
        print(f"  {seconds:.1f} s; {result.requests} requests sent ({result.requests - result.writes} reads, "
              f"{result.writes} writes); the sandbox received {len(received)} ({len(posts)} writes)")  # fmt: skip
        print(f"  {result.line()}")

        # The same change through the real-time path (what a stock change does within seconds).
        with transaction.atomic():
            stock_set_counts(
                merchant_id=merchant.pk,
                counts=[StockCount(c.product_id, None, c.on_hand + 1) for c in counts],
                reason="manual_adjustment",
            )
        sandbox.clear_requests()
        started = time.perf_counter()
        pushed = listing_pushes_deliver(store_id=store.pk)
        seconds = time.perf_counter() - started
        per_product = seconds / max(1, changed) * 1000
        print(f"\nreal-time pushes of the same {changed} products: {seconds:.1f} s, {pushed.requests} requests "
              f"({pushed.writes} writes), {per_product:.0f} ms per product; {pushed.line()}")  # fmt: skip
        print(f"listings log rows: {ListingEvent.objects.filter(store=store).count():,}")
        Store.objects.filter(pk=store.pk).delete()


if __name__ == "__main__":
    main()
