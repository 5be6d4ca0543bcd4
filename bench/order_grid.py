"""Orders grid latency through the real view (Django test Client, logged in as the merchant).

    python bench/order_grid.py                                   # PostgreSQL shipping_bench on 127.0.0.1
    DATABASE_URL=postgres://... python bench/order_grid.py --orders 1000000 --runs 30
    DATABASE_URL=sqlite:////tmp/grid.sqlite3 python bench/order_grid.py --orders 20000

Seeds the orders once (bulk inserts in batches; skipped when the bench merchant already has them),
then prints, for each grid page, the median and p95 of the whole request in ms and its query count.
"""

import argparse
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seeding import ensure_postgres_database, insert  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shipping_bench"
SLUG, EMAIL, PASSWORD = "grid-bench", "grid-bench@example.com", "grid-bench-pass-123"
STORES = ["Back Market FR", "Back Market US", "Listing Mirror", "Web shop", "eBay"]
STATUSES = [  # roughly a working shop: most orders shipped, a day or two of work waiting
    ("shipped", 70),
    ("awaiting_shipment", 15),
    ("cancelled", 6),
    ("on_hold", 5),
    ("awaiting_payment", 4),
]
FIRST = "Anna Ben Chloé David Emma Farid Greta Hugo Inès Jonas Kasia Léo Mila Noah Olga Paul Rosa Sami Tess Zofia"
LAST = "Martin Bernard Dubois Wójcik Schmidt Rossi García Smith Nowak Jensen Silva Novak Horvat Laine Murphy"
CITIES = [("Paris", "FR"), ("Lyon", "FR"), ("Berlin", "DE"), ("Madrid", "ES"), ("London", "GB"), ("Austin", "US")]


def seed(*, merchant, stores, target: int, batch: int) -> float:
    """Insert orders (1-2 lines; a shipment when shipped) up to `target`; returns the seconds taken."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from orders.models import Order, OrderLine, Shipment

    have = Order.objects.filter(merchant=merchant).count()
    if have >= target:
        return 0.0
    started = time.perf_counter()
    rng = random.Random(have)  # noqa: S311 -- made-up orders, nothing secret
    now = timezone.now()
    first, last = FIRST.split(), LAST.split()
    skus = [(f"{model}-{gb}-{grade}", f"{model} {gb} GB ({grade})") for model in ("IPH12", "IPH13", "IPH14", "PXL7",
            "GS22", "GS23") for gb in (64, 128, 256) for grade in ("A", "B", "C")]  # fmt: skip
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    # Ids are handed out here (one seeding process) so lines and shipments can point at their orders.
    ids = {m: itertools.count((m.objects.aggregate(n=Max("id"))["n"] or 0) + 1) for m in (Order, OrderLine, Shipment)}
    for start in range(have, target, batch):
        orders, lines, shipments = [], [], []
        for n in range(start, min(start + batch, target)):
            store = stores[n % len(stores)]
            name = f"{rng.choice(first)} {rng.choice(last)}"
            city, country = rng.choice(CITIES)
            # Spread over a year, denser lately (a growing shop), to the second: many share a minute.
            ordered = now - timedelta(seconds=int(365 * 86400 * rng.random() ** 1.5))
            items = [(rng.choice(skus), rng.randint(1, 2)) for _ in range(rng.choice((1, 1, 1, 2)))]
            prices = [Decimal(rng.randrange(9900, 89900)) / 100 for _ in items]
            order_id, status = next(ids[Order]), rng.choice(statuses)
            orders.append(
                {
                    "id": order_id,
                    "merchant_id": merchant.pk,
                    "store_id": store.pk,
                    "external_id": str(n),
                    "order_number": f"{store.pk:02d}{n:08d}",
                    "external_status": "1",
                    "status": status,
                    "order_date": ordered,
                    "payment_date": ordered,
                    "customer_name": name,
                    "customer_email": f"{name.lower().replace(' ', '.')}{n % 1000}@example.com",
                    "ship_to_name": name,
                    "ship_to_street1": f"{rng.randint(1, 200)} Main Street",
                    "ship_to_city": city,
                    "ship_to_country": country,
                    "currency": "EUR",
                    "order_total": sum(p * q for p, (_, q) in zip(prices, items, strict=True)),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for i, (((sku, title), qty), price) in enumerate(zip(items, prices, strict=True), 1):
                lines.append(
                    {
                        "id": next(ids[OrderLine]),
                        "order_id": order_id,
                        "external_line_id": str(i),
                        "sku": sku,
                        "name": title,
                        "quantity": qty,
                        "unit_price": price,
                    }
                )
            if status == "shipped":
                shipments.append(
                    {
                        "id": next(ids[Shipment]),
                        "order_id": order_id,
                        "carrier_code": "ups",
                        "tracking_number": f"1Z{order_id:016d}",
                        "ship_date": (ordered + timedelta(days=1)).date(),
                        "notify_channel": False,
                        "notify_customer": False,
                        "created_at": now,
                    }
                )
        with transaction.atomic():
            for model, rows in ((Order, orders), (OrderLine, lines), (Shipment, shipments)):
                if rows:
                    insert(model, rows)
        print(f"  seeded {min(start + batch, target):>9,} orders", end="\r", flush=True)
    print()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Order, OrderLine, Shipment]):
            cursor.execute(sql)  # the next order created the usual way gets a fresh id
        if connection.vendor == "postgresql":  # fresh statistics and visibility map, as autovacuum would give
            cursor.execute("VACUUM ANALYZE orders_order, orders_orderline, orders_shipment")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (after 2 warm-up ones)")
    parser.add_argument("--batch", type=int, default=5000, help="orders per bulk insert")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    # A lasting folder: its keys must still decrypt the stores seeded by an earlier run.
    os.environ.setdefault("SHIPPING_VAR_DIR", str(Path(tempfile.gettempdir()) / "shipping-grid-bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipping.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # timings as in production (no debug query log)
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)

    from channels.models import Store
    from orders.models import Order
    from orders.selectors import order_status_counts
    from shipping.accounts.models import Membership
    from shipping.accounts.services import merchant_create_or_update

    merchant = merchant_create_or_update(slug=SLUG, email=EMAIL, password=PASSWORD)
    stores = [
        Store.objects.get_or_create(merchant=merchant, name=name, defaults={"kind": "manual"})[0] for name in STORES
    ]
    seconds = seed(merchant=merchant, stores=stores, target=args.orders, batch=args.batch)
    total = Order.objects.filter(merchant=merchant).count()
    print(
        f"database: {connection.vendor}; {total:,} orders of the bench merchant"
        + (f" (seeded in {seconds:.0f} s)" if seconds else " (already seeded)")
    )

    client = Client()
    client.force_login(Membership.objects.get(merchant=merchant).user)

    def next_link(url: str) -> str:
        found = re.search(r'<a rel="next" href="([^"]+)"', client.get(url).content.decode())
        return "/" + unescape(found.group(1))

    page2 = next_link("/")
    deep = "/?status=all"
    for _ in range(19):
        deep = next_link(deep)
    sample = (
        Order.objects.filter(merchant=merchant, status="shipped")
        .order_by("-order_date")
        .values("order_number", "id")[500]
    )
    cases = [
        ("/ (default: awaiting shipment tab)", "/"),
        ("status tab: all", "/?status=all"),
        ("status tab: shipped", "/?status=shipped"),
        ("store filter (awaiting shipment)", f"/?store={stores[2].pk}"),
        ("store filter (all)", f"/?status=all&store={stores[2].pk}"),
        ("sort by total (awaiting shipment)", "/?sort=-total"),
        ("sort by total (all)", "/?status=all&sort=-total"),
        ("sort by customer (all)", "/?status=all&sort=customer"),
        ("page 2 via the cursor", page2),
        ("page 20 via the cursor (all)", deep),
        ("search: order number (all)", f"/?status=all&q={sample['order_number']}"),
        ("search: customer name (all)", "/?status=all&q=zofia+w"),
        ("search: tracking number (all)", f"/?status=all&q=1z{sample['id']:016d}"),
        ("search: SKU (all)", "/?status=all&q=iph13-128-a"),
        ("search: no match (all)", "/?status=all&q=nothing-like-this"),
    ]

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(f"{'page':<38} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'rows':>5}")
    for label, url in cases:
        for _ in range(2):
            client.get(url)
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url).content.decode()
        rows = len(re.findall(r'<a href="/orders/\d+/">', body))
        print(f"{label:<38} {statistics.median(timings):>10.1f} {p95(timings):>8.1f} {len(ctx):>8} {rows:>5}")

    def counts_ms(planner: str = "") -> list[float]:
        timings = []
        for _ in range(args.runs):
            with transaction.atomic(), connection.cursor() as cursor:
                if planner:
                    cursor.execute(planner)
                started = time.perf_counter()
                order_status_counts(merchant=merchant)
                timings.append((time.perf_counter() - started) * 1000)
        return timings

    timings = counts_ms()
    print(f"{'  of which: tab counts (GROUP BY)':<38} {statistics.median(timings):>10.1f} {p95(timings):>8.1f} {1:>8}")
    if connection.vendor == "postgresql":  # SSD costs make the planner count from the index alone
        timings = counts_ms("SET LOCAL random_page_cost = 1.1")
        label = "  tab counts, random_page_cost=1.1"
        print(f"{label:<38} {statistics.median(timings):>10.1f} {p95(timings):>8.1f} {1:>8}")


if __name__ == "__main__":
    main()
