"""Order import throughput through the whole pipeline (fake adapter, real database).

    python bench/import_throughput.py --orders 2000          # embedded SQLite in a temp folder
    DATABASE_URL=postgres://... python bench/import_throughput.py --orders 5000

Prints orders/second for a first import (all created), a re-import of the same window (all
unchanged) and an import where every order changed, with the SQL queries per page.
``--catalog`` puts every SKU in the catalog with stock first, so each page also allocates stock.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=2, help="lines per order")
    parser.add_argument("--catalog", action="store_true", help="the SKUs are catalog products (stock is allocated)")
    args = parser.parse_args()

    os.environ.setdefault("SHIPPING_VAR_DIR", tempfile.mkdtemp(prefix="bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipping.settings.local")
    os.environ.setdefault("IMPORT_SETTLE_SECONDS", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)

    from channels import fake
    from channels.models import Store
    from channels.services.order_import_run import order_import_run
    from channels.services.stores import store_connect
    from orders.models import Order
    from shipping.accounts.services import merchant_create_or_update
    from tests.conftest import fake_order

    merchant = merchant_create_or_update(slug="bench", email="bench@example.com", password="bench-pass-123")
    name = f"bench-{time.time_ns()}"
    market = fake.marketplace(name)
    market.page_size = 50
    store = store_connect(merchant=merchant, kind="fake", name=name, options={"marketplace": name}, check=False)
    Store.objects.filter(pk=store.pk).update(auto_accept=False)

    def fill(minutes_ago: float) -> None:
        for n in range(args.orders):
            lines = [
                {"id": f"{n}-{i}", "sku": f"SKU-{i}", "name": f"Item {i}", "qty": 1, "price": "10.00"}
                for i in range(args.lines)
            ]
            market.put(fake_order(f"{n}", minutes_ago=minutes_ago, lines=lines))

    if args.catalog:
        from catalog.models import Product
        from catalog.services.products import product_create
        from catalog.services.stock import stock_adjust

        for i in range(args.lines):
            sku = f"SKU-{i}"
            product = Product.objects.filter(merchant=merchant, sku=sku).first() or product_create(
                merchant=merchant, sku=sku, name=f"Item {i}"
            )
            stock_adjust(product=product, on_hand=args.orders * 10, note="bench")

    def timed(label: str) -> None:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            run = order_import_run(store_id=store.pk)
        seconds = time.perf_counter() - started
        print(
            f"{label:<22} {args.orders} orders in {seconds:6.2f} s = {args.orders / seconds:7.0f} orders/s "
            f"(created={run.created_count} updated={run.updated_count} unchanged={run.unchanged_count}, "
            f"{run.pages} pages, {len(queries) / max(run.pages, 1):.1f} queries/page)"
        )

    engine = django.db.connection.vendor
    print(
        f"database: {engine}; {args.orders} orders x {args.lines} lines; page size {market.page_size}"
        f"{'; SKUs in the catalog' if args.catalog else ''}"
    )
    fill(minutes_ago=5)
    timed("first import")
    timed("re-import, unchanged")
    fill(minutes_ago=1)
    timed("re-import, all changed")
    assert Order.objects.filter(store=store).count() == args.orders


if __name__ == "__main__":
    main()
