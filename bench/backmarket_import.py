"""Import N Back Market orders from the sandbox over real HTTP, through the whole pipeline.

    python bench/backmarket_import.py --orders 10000                   # SQLite in a temp folder
    DATABASE_URL=postgres://... python bench/backmarket_import.py --orders 10000

Prints orders per second and database queries per page for a first import and a re-import.
The client's shared rate limit (200 requests per 10 s) applies, as it would against Back Market.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()

    os.environ.setdefault("SHIPPING_VAR_DIR", tempfile.mkdtemp(prefix="bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipping.settings.local")
    os.environ.setdefault("IMPORT_SETTLE_SECONDS", "0")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from channels.backmarket.adapter import BackMarketAdapter
    from channels.models import Store
    from channels.services.order_import_run import order_import_run
    from channels.services.stores import store_connect
    from orders.models import Order
    from shipping.accounts.services import merchant_create_or_update

    token = "YmVuY2gtdG9rZW4="
    print(f"generating {args.orders} sandbox orders in a separate process ...", flush=True)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "manage.py",
            "run_sandbox",
            "backmarket",
            "--port",
            str(port),
            "--orders",
            str(args.orders),
            "--seed",
            "3",
            "--token",
            token,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()  # "Back Market sandbox at ..." once it serves
        sandbox = SimpleNamespace(base_url=f"http://127.0.0.1:{port}")
        summary = requests.get(f"{sandbox.base_url}/_sandbox", timeout=30).json()["orders_by_state"]
        visible = sum(n for state, n in summary.items() if state not in ("0", "8"))
        merchant = merchant_create_or_update(slug="bench", email="bench@example.com", password="bench-pass-123")
        store = store_connect(
            merchant=merchant,
            kind="back_market",
            name=f"BM bench {time.time_ns()}",
            options={"region": "custom", "base_url": sandbox.base_url, "token": token},
        )
        Store.objects.filter(pk=store.pk).update(auto_accept=False)
        print(f"database: {connection.vendor}; {visible} listed orders, page size 50")

        def timed(label: str, **kwargs) -> None:
            queries = []

            def count(execute, sql, params, many, context):
                queries.append(1)
                return execute(sql, params, many, context)

            fetching = []
            original = BackMarketAdapter.fetch_orders

            def timed_fetch(self, **kw):
                began = time.perf_counter()
                try:
                    return original(self, **kw)
                finally:
                    fetching.append(time.perf_counter() - began)

            BackMarketAdapter.fetch_orders = timed_fetch
            started = time.perf_counter()
            try:
                with connection.execute_wrapper(count):
                    run = order_import_run(store_id=store.pk, **kwargs)
            finally:
                BackMarketAdapter.fetch_orders = original
            seconds = time.perf_counter() - started
            handled = run.created_count + run.updated_count + run.unchanged_count + run.quarantined_count
            print(
                f"{label:<12} {handled} orders in {seconds:6.1f} s = {handled / seconds:6.0f} orders/s; "
                f"{run.pages} pages, {len(queries) / max(run.pages, 1):.0f} queries/page, "
                f"{sum(fetching):.1f} s waiting for HTTP (sandbox + rate limit) "
                f"(created={run.created_count} updated={run.updated_count} unchanged={run.unchanged_count} "
                f"quarantined={run.quarantined_count})",
                flush=True,
            )

        timed("first import")
        timed("re-import", since=timezone.now() - timedelta(days=30))
        assert Order.objects.filter(store=store).count() == visible - run_quarantined(store)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_quarantined(store) -> int:
    return store.sync_issues.filter(kind="quarantined", status="open").count()


if __name__ == "__main__":
    main()
