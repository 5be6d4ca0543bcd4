"""Import N sandbox orders over real HTTP, through the whole pipeline, for one channel.

    python bench/sandbox_import.py --channel backmarket --orders 10000       # SQLite in a temp folder
    python bench/sandbox_import.py --channel listingmirror --orders 10000
    DATABASE_URL=postgres://... python bench/sandbox_import.py --channel backmarket --orders 10000

The sandbox runs in its own process (`manage.py run_sandbox`), as the marketplace would. Prints
orders per second, database queries per page and the time spent waiting on HTTP, for a first
import and a re-import of the same window. Rate limits apply as they would in production.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "YmVuY2gtdG9rZW4="


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _store_options(channel: str, line: str, base_url: str) -> tuple[str, dict]:
    if channel == "backmarket":
        return "back_market", {"region": "custom", "base_url": base_url, "token": TOKEN}
    found = dict(re.findall(r"(endpoint|username|password)=(\S+)", line))
    return "listing_mirror", {"url": found["endpoint"], "username": found["username"], "password": found["password"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--channel", choices=["backmarket", "listingmirror"], default="backmarket")
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

    from channels.models import Store
    from channels.registry import get_adapter_class
    from channels.services.order_import_run import order_import_run
    from channels.services.stores import store_connect
    from orders.models import Order
    from shipping.accounts.services import merchant_create_or_update

    print(f"generating {args.orders} {args.channel} sandbox orders in a separate process ...", flush=True)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "manage.py",
            "run_sandbox",
            args.channel,
            "--port",
            str(port),
            "--orders",
            str(args.orders),
            "--seed",
            "3",
            "--token",
            TOKEN,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()  # printed once it serves
        kind, options = _store_options(args.channel, line, f"http://127.0.0.1:{port}")
        merchant = merchant_create_or_update(slug="bench", email="bench@example.com", password="bench-pass-123")
        store = store_connect(merchant=merchant, kind=kind, name=f"bench {time.time_ns()}", options=options)
        Store.objects.filter(pk=store.pk).update(auto_accept=False)
        adapter_cls = get_adapter_class(kind)
        print(f"database: {connection.vendor}; channel {kind}")

        def timed(label: str, **kwargs):
            queries, fetching = [], []

            def count(execute, sql, params, many, context):
                queries.append(1)
                return execute(sql, params, many, context)

            original = adapter_cls.fetch_orders

            def timed_fetch(self, **kw):
                began = time.perf_counter()
                try:
                    return original(self, **kw)
                finally:
                    fetching.append(time.perf_counter() - began)

            adapter_cls.fetch_orders = timed_fetch
            started = time.perf_counter()
            try:
                with connection.execute_wrapper(count):
                    run = order_import_run(store_id=store.pk, **kwargs)
            finally:
                adapter_cls.fetch_orders = original
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
            return run

        first = timed("first import")
        timed("re-import", since=timezone.now() - timedelta(days=30))
        assert Order.objects.filter(store=store).count() == first.created_count
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
