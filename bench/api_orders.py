"""GET /api/v1/orders?pageSize=500 through the real API (Basic auth, quota, presenters) with many orders.

    python bench/api_orders.py                                    # PostgreSQL shipping_api_bench on 127.0.0.1
    DATABASE_URL=postgres://... python bench/api_orders.py --orders 100000 --runs 20

Seeds the orders once (COPY on PostgreSQL; skipped when the bench merchant has them), then prints the
median and p95 of whole requests in ms and the queries per request, for a few pages and filters.
"""

import argparse
import base64
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seeding import ensure_postgres_database, insert  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shipping_api_bench"
SLUG = "api-bench"


def seed(*, merchant, store, target: int, batch: int = 5000) -> None:
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from orders.models import Order, OrderLine, Shipment

    have = Order.objects.filter(merchant=merchant).count()
    if have >= target:
        return
    rng = random.Random(have)  # noqa: S311 -- made-up orders
    now = timezone.now()
    ids = {m: itertools.count((m.objects.aggregate(n=Max("id"))["n"] or 0) + 1) for m in (Order, OrderLine, Shipment)}
    for start in range(have, target, batch):
        orders, lines, shipments = [], [], []
        for n in range(start, min(start + batch, target)):
            order_id = next(ids[Order])
            ordered = now - timedelta(seconds=rng.randrange(365 * 86400))
            status = rng.choice(["shipped"] * 7 + ["awaiting_shipment"] * 2 + ["on_hold"])
            orders.append({
                "id": order_id, "merchant_id": merchant.pk, "store_id": store.pk, "external_id": f"K{n}",
                "order_number": f"B{n:08d}", "status": status, "order_date": ordered, "payment_date": ordered,
                "customer_name": f"Customer {n % 997}", "customer_email": f"c{n}@example.com",
                "ship_to_name": f"Customer {n % 997}", "ship_to_street1": f"{n % 200} Main Street",
                "ship_to_city": "Paris", "ship_to_country": "FR", "order_total": Decimal("329.00"),
                "created_at": ordered, "updated_at": ordered,
            })  # fmt: skip
            for i in range(1, rng.choice((1, 1, 2)) + 1):
                lines.append({
                    "id": next(ids[OrderLine]), "order_id": order_id, "external_line_id": str(i),
                    "sku": f"SKU-{rng.randrange(50)}", "name": "Refurbished phone", "quantity": 1,
                    "unit_price": Decimal("329.00"), "options": [{"name": "Grade", "value": "A"}],
                })  # fmt: skip
            if status == "shipped":
                shipments.append({
                    "id": next(ids[Shipment]), "order_id": order_id, "carrier_code": "ups",
                    "tracking_number": f"1Z{order_id:016d}", "ship_date": ordered.date(), "created_at": ordered,
                })  # fmt: skip
        with transaction.atomic():
            for model, rows in ((Order, orders), (OrderLine, lines), (Shipment, shipments)):
                insert(model, rows)
        print(f"  seeded {min(start + batch, target):>9,} orders", end="\r", flush=True)
    print()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Order, OrderLine, Shipment]):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE orders_order, orders_orderline, orders_shipment")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per case (after 2 warm-up ones)")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SHIPPING_VAR_DIR", str(Path(tempfile.gettempdir()) / "shipping-api-bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipping.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("API_RATE_LIMIT_PER_MINUTE", "1000000")  # measure the request, not the quota
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from channels.models import Store
    from orders.models import Order
    from shipping.accounts.services import api_key_create, merchant_create_or_update

    merchant = merchant_create_or_update(slug=SLUG, email=f"{SLUG}@example.com", password="api-bench-pass-123")
    store = Store.objects.get_or_create(merchant=merchant, name="Bench manual", defaults={"kind": "manual"})[0]
    started = time.perf_counter()
    seed(merchant=merchant, store=store, target=args.orders)
    total = Order.objects.filter(merchant=merchant).count()
    print(f"database: {connection.vendor}; {total:,} orders ({time.perf_counter() - started:.0f} s to seed/check)")

    key, secret = api_key_create(merchant=merchant, name="bench")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key.key}:{secret}".encode()).decode()}
    client = Client()
    cases = [
        ("pageSize=500 (page 1)", "/api/v1/orders?pageSize=500"),
        ("pageSize=500, page 100", "/api/v1/orders?pageSize=500&page=100"),
        ("pageSize=500, sortBy=ModifyDate DESC", "/api/v1/orders?pageSize=500&sortBy=ModifyDate&sortDir=DESC"),
        ("pageSize=500, awaiting_shipment", "/api/v1/orders?pageSize=500&orderStatus=awaiting_shipment"),
        ("pageSize=500, modifyDateStart 30 days", "/api/v1/orders?pageSize=500&modifyDateStart="
         + (django.utils.timezone.now() - timedelta(days=30)).strftime("%Y-%m-%d")),
        ("pageSize=100, itemKeyword=SKU-7", "/api/v1/orders?pageSize=100&itemKeyword=SKU-7"),
    ]  # fmt: skip
    print(f"{'GET /api/v1/orders':<40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'orders':>7}")
    for label, url in cases:
        for _ in range(2):
            client.get(url, **auth)
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(url, **auth)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code, response.content[:200])
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url, **auth).json()
        p95 = sorted(timings)[max(0, round(0.95 * len(timings)) - 1)]
        print(f"{label:<40} {statistics.median(timings):>10.1f} {p95:>8.1f} {len(ctx):>8} {len(body['orders']):>7}")


if __name__ == "__main__":
    main()
