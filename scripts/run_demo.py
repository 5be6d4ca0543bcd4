#!/usr/bin/env python
"""Run the demo: migrate, make sure the demo merchant and store exist, then run web, worker and beat.

The demo merchant's catalog mirrors the Back Market sandbox's listings (read over its control API): one product
per listing, with stock and Back Market listing settings, plus a few enabled products not listed yet; the Back
Market store's listing sync pushes quantities.

Started by ``make run`` with the virtualenv's Python. Re-running reuses the database, the merchant
and the store. Ctrl-C (or SIGTERM) stops every process this script started, grandchildren included.
With DATABASE_URL / REDIS_URL set it uses them; otherwise the embedded default (SQLite and a
filesystem broker under var/, or SHIPPING_VAR_DIR).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MERCHANT = "demo"
EMAIL = "demo@example.com"
PASSWORD = "demo-pass-123"
STORE_NAME = "Demo marketplace"
BM_STORE_NAME = "Back Market (sandbox)"
BM_TOKEN = "ZGVtby1iYWNrbWFya2V0LXRva2Vu"  # the sandbox's demo token; never a real one
LM_STORE_NAME = "Listing Mirror (sandbox)"
LM_PASSWORD = "demo-listing-mirror-password"  # the sandbox's generated-style password; never a real one
BM_LISTINGS = 30  # listings the Back Market sandbox starts with; the demo catalog mirrors them
UNLISTED_PRODUCTS = 3  # enabled catalog products with no listing yet (work for listing creation)
BM_GRADES = {"EXCELLENT": 0, "VERY_GOOD": 1, "GOOD": 2, "FAIR": 3, "STALLONE": 4}  # catalog Grade values
OPEN_ORDER_STATES = {1, 3, 10}  # Back Market order states the app imports as open (they hold stock)
BM_EXTRA = ["--listings", str(BM_LISTINGS)]
STOP_TIMEOUT = 10.0
FIRST_IMPORTS: list[str] = []  # stores connected just now; imported once the processes are up

_print_lock = threading.Lock()


def say(text: str = "") -> None:
    with _print_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def fail(text: str, code: int = 1) -> None:
    say(f"run_demo: {text}")
    sys.exit(code)


def manage(*args: str, env: dict[str, str], capture: bool = False) -> str:
    """Run ``manage.py ARGS``; with ``capture`` return its stdout (echoed), else let it print."""
    cmd = [PY, "manage.py", *args]
    if not capture:
        result = subprocess.run(cmd, cwd=ROOT, env=env, check=False)  # noqa: S603 (fixed argv)
        out = ""
    else:
        result = subprocess.run(  # noqa: S603 (fixed argv)
            cmd, cwd=ROOT, env=env, check=False, stdout=subprocess.PIPE, text=True
        )
        out = result.stdout
        if out.strip():
            say(out.rstrip("\n"))
    if result.returncode != 0:
        fail(f"`manage.py {' '.join(args)}` failed with exit code {result.returncode}")
    return out


def last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def sandbox_summary(url: str, path: str = "") -> dict | list:
    with urllib.request.urlopen(f"{url}/_sandbox{path}", timeout=10) as response:  # noqa: S310 - our localhost sandbox
        return json.load(response)


def _eur(value: object) -> str | None:
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01"))) if value not in (None, "") else None
    except (ArithmeticError, ValueError):
        return None


def demo_catalog_spec(bm_url: str) -> list[dict]:
    """One catalog product per sandbox listing, priced in the store's market (fr-fr, EUR), plus a few offers that
    are not listed yet. On hand = the listing's quantity + the units open sandbox orders hold (the first import
    allocates them), so available stock starts equal to what Back Market shows."""
    listings = sandbox_summary(bm_url, "/listings")
    orders = sandbox_summary(bm_url, "/orders")
    offers = sandbox_summary(bm_url, "/offers")
    assert isinstance(listings, list) and isinstance(orders, list) and isinstance(offers, list)
    held: dict[str, int] = {}
    for order in orders:
        if order.get("state") in OPEN_ORDER_STATES:
            for line in order.get("lines") or []:
                if line.get("state") not in (4, 5, 6, 7) and isinstance(line.get("quantity"), int):
                    sku = str(line.get("listing") or "").lower()
                    held[sku] = held.get(sku, 0) + line["quantity"]
    category = {str(o["sku"]).lower(): o.get("category") for o in offers}
    spec = []
    for listing in listings:
        prices = (listing.get("markets") or {}).get("fr-fr") or {}
        price = _eur(prices.get("price")) or (_eur(listing.get("price")) if listing.get("currency") == "EUR" else None)
        sku = str(listing["sku"])
        spec.append({
            "sku": sku, "name": listing.get("title") or "", "category": category.get(sku.lower()),
            "on_hand": max(0, int(listing.get("quantity") or 0)) + held.get(sku.lower(), 0),
            "price": price, "grade": BM_GRADES.get(str(listing.get("grade") or "")),
            "backmarket_id": listing.get("product_id") or str(listing.get("backmarket_id") or ""),
        })  # fmt: skip
    listed = {item["sku"].lower() for item in spec}
    products_used: set[str] = set()
    for offer in offers:
        if len(spec) - len(listings) >= UNLISTED_PRODUCTS:
            break
        if offer.get("listed") or str(offer["sku"]).lower() in listed or offer["product_id"] in products_used:
            continue
        products_used.add(offer["product_id"])
        spec.append({
            "sku": offer["sku"], "name": offer.get("title") or "", "category": offer.get("category"), "on_hand": 5,
            "price": _eur(offer.get("price")), "grade": BM_GRADES.get(str(offer.get("grade") or "")),
            "backmarket_id": offer["product_id"],
        })  # fmt: skip
    return spec


# Run by `manage.py shell` with DEMO_CATALOG_FILE: creates what is missing, never overwrites the merchant's edits.
CATALOG_CODE = """
import json, os
from decimal import Decimal
from catalog.models import ListingSettings, ListingSync, Product
from catalog.services.products import product_create
from catalog.services.stock import stock_adjust
from channels.models import Store
from shipping.accounts.models import Merchant
try:
    from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
except ImportError:
    listing_settings_save = listing_sync_configure = None
with open(os.environ["DEMO_CATALOG_FILE"], encoding="utf-8") as handle:
    spec = json.load(handle)
merchant = Merchant.objects.get(slug=spec["merchant"])
store = Store.objects.get(merchant=merchant, name=spec["store"])
new_products = new_settings = 0
for item in spec["products"]:
    product = Product.objects.filter(merchant=merchant, sku__iexact=item["sku"]).first()
    price = Decimal(item["price"]) if item["price"] else None
    if product is None:
        weight = Decimal("1290") if item["category"] == "laptop" else Decimal("190")
        cost = (price * Decimal("0.65")).quantize(Decimal("0.01")) if price else None
        product = product_create(merchant=merchant, sku=item["sku"], name=item["name"][:500], weight_grams=weight,
                                 cost=cost)
        if item["on_hand"]:
            stock_adjust(product=product, on_hand=item["on_hand"], note="demo catalog")
        new_products += 1
    if ListingSettings.objects.filter(store=store, product=product).exists():
        continue
    values = dict(enabled=True, price=price, grade=item["grade"], warranty_months=12,
                  min_price=(price * Decimal("0.9")).quantize(Decimal("0.01")) if price else None,
                  backmarket_id=item["backmarket_id"] or "")
    if listing_settings_save is not None:
        listing_settings_save(store=store, product=product, **values)
    else:
        ListingSettings.objects.create(store=store, product=product, **values)
    new_settings += 1
if not ListingSync.objects.filter(store=store).exists():
    if listing_sync_configure is not None:
        listing_sync_configure(store=store, mode="quantities")
    else:
        ListingSync.objects.create(store=store, mode="quantities")
sync = ListingSync.objects.get(store=store)
print(f"{new_products} new products, {new_settings} new listing settings; listing sync: {sync.mode}")
"""


def demo_catalog(env: dict[str, str], bm_url: str) -> None:
    say(f"==> Demo catalog matching the Back Market sandbox's listings ({bm_url}/_sandbox/listings)")
    try:
        products = demo_catalog_spec(bm_url)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        say(f"run_demo: could not read the sandbox's listings ({exc}); the demo catalog is left as it is")
        return
    payload = {"merchant": MERCHANT, "store": BM_STORE_NAME, "products": products}
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", suffix=".json", prefix="demo-catalog-", dir=env["SHIPPING_VAR_DIR"], delete=False
    ) as handle:
        json.dump(payload, handle)
    try:
        manage("shell", "--verbosity", "0", "-c", CATALOG_CODE, env={**env, "DEMO_CATALOG_FILE": handle.name})
    finally:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)


def setup(env: dict[str, str], *, bm_url: str, lm_url: str) -> None:
    say("==> Applying database migrations")
    manage("migrate", "--noinput", env=env)

    say(f"==> Demo merchant '{MERCHANT}' ({EMAIL})")
    out = manage("create_merchant", MERCHANT, "--email", EMAIL, "--password", PASSWORD, env=env, capture=True)
    if not last_line(out):
        fail("create_merchant printed no merchant id")

    say("==> Demo ship-from warehouse (labels need one)")
    warehouse = (
        "from orders.models import Warehouse; from shipping.accounts.models import Merchant; "
        f"m = Merchant.objects.get(slug={MERCHANT!r}); "
        "Warehouse.objects.filter(merchant=m).exists() or Warehouse.objects.create(merchant=m, name='Main warehouse', "
        "is_default=True, address_name='Demo Refurb', address_street1='12 rue de la République', "
        "address_city='Lyon', address_postal_code='69002', address_country='FR', address_phone='+33 4 00 00 00 00')"
    )
    manage("shell", "--verbosity", "0", "-c", warehouse, env=env)

    connect_once(env, STORE_NAME, ("fake", "--no-check"))
    # The Back Market store talks to the sandbox over HTTP, exactly as to the real API.
    connect_once(env, BM_STORE_NAME, ("back_market", "--region", "custom", "--base-url", bm_url, "--token", BM_TOKEN))
    demo_catalog(env, bm_url)
    # Listing Mirror: the ShipStation custom store endpoint, with the username/password it "generated".
    lm = sandbox_summary(lm_url)
    connect_once(
        env,
        LM_STORE_NAME,
        ("listing_mirror", "--url", lm["endpoint_url"], "--username", lm["username"], "--password", lm["password"]),
    )


def connect_once(env: dict[str, str], name: str, channel_args: tuple[str, ...]) -> None:
    say(f"==> Demo store '{name}'")
    probe = (
        "from channels.models import Store; "
        f"found = Store.objects.filter(merchant__slug={MERCHANT!r}, name={name!r}).exists(); "
        "print('yes' if found else 'no')"
    )
    exists = last_line(manage("shell", "--verbosity", "0", "-c", probe, env=env, capture=True))
    if exists == "yes":
        say("already connected; reusing it")
    elif exists == "no":
        store_id = last_line(
            manage(
                "connect_store", MERCHANT, *channel_args[:1], "--name", name, *channel_args[1:], env=env, capture=True
            )
        )
        if not store_id:
            fail("connect_store printed no store id")
        FIRST_IMPORTS.append(store_id)  # imported beside the web server, so the login page comes up sooner
    else:
        fail(f"could not tell whether the demo store exists (got {exists!r})")


def banner(url: str, env: dict[str, str]) -> None:
    db = "DATABASE_URL" if env.get("DATABASE_URL") else "SQLite under " + env["SHIPPING_VAR_DIR"]
    broker = "REDIS_URL" if env.get("REDIS_URL") else "filesystem broker under " + env["SHIPPING_VAR_DIR"]
    width = 64
    say("")
    say("=" * width)
    say(f"  Shipping demo: {url}")
    say(f"  Log in with    {EMAIL} / {PASSWORD}")
    say(f"  Data:          {db}; {broker}")
    say("  Processes:     web, worker, beat; bm-api and lm-api (Back Market and Listing Mirror")
    say("                 sandboxes); each output line prefixed by its name")
    say("  Stop:          Ctrl-C stops all of them")
    say("=" * width)
    say("")


class Child:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(  # noqa: S603 (fixed argv)
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: we signal the whole group, grandchildren too
        )
        self.pgid = self.proc.pid
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        prefix = f"{self.name:<6}| "
        for raw in iter(self.proc.stdout.readline, b""):
            say(prefix + raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    def group_alive(self) -> bool:
        self.proc.poll()  # reap our own child so it doesn't linger as a zombie
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)


def stop_all(children: list[Child], *, forced: threading.Event) -> None:
    """SIGTERM each child, then its whole group once it has exited; SIGKILL what is left at the deadline.

    The leader goes first: a Celery worker whose pool processes get SIGTERM alongside it respawns them
    and can hang in its warm shutdown, while SIGTERM to the main process alone stops it cleanly.
    """
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.proc.send_signal(signal.SIGTERM)
    swept: set[str] = set()
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and not forced.is_set():
        if not any(child.group_alive() for child in children):
            break
        for child in children:
            if child.proc.returncode is not None and child.name not in swept:
                swept.add(child.name)
                child.signal_group(signal.SIGTERM)  # grandchildren left behind by the leader
        time.sleep(0.1)
    alive = [child for child in children if child.group_alive()]
    for child in alive:
        say(f"run_demo: {child.name} did not stop; killing it")
        child.signal_group(signal.SIGKILL)
    deadline = time.monotonic() + 3
    while alive and time.monotonic() < deadline:
        alive = [child for child in alive if child.group_alive()]
        time.sleep(0.1)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(timeout=1)
        child.reader.join(timeout=1)


def main() -> int:
    os.chdir(ROOT)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "shipping.settings.local")
    env.setdefault("SHIPPING_VAR_DIR", str(ROOT / "var"))
    env["PYTHONUNBUFFERED"] = "1"
    Path(env["SHIPPING_VAR_DIR"]).mkdir(parents=True, exist_ok=True)

    try:
        port = int(env.get("PORT", "8000"))
    except ValueError:
        fail(f"PORT must be a number, not {env.get('PORT')!r}")
    url = f"http://127.0.0.1:{port}/"
    if not port_is_free(port):
        fail(f"port {port} on 127.0.0.1 is already in use; stop what uses it or set PORT=...")
    sandboxes = []
    for name, channel, variable, default, extra in (
        ("bm-api", "backmarket", "BM_SANDBOX_PORT", 8801, ["--token", BM_TOKEN, "--orders", "30", *BM_EXTRA]),
        ("lm-api", "listingmirror", "LM_SANDBOX_PORT", 8802, ["--token", LM_PASSWORD, "--orders", "30"]),
    ):
        try:
            sandbox_port = int(env.get(variable, str(default)))
        except ValueError:
            fail(f"{variable} must be a number, not {env.get(variable)!r}")
        if not port_is_free(sandbox_port):
            fail(f"port {sandbox_port} ({channel} sandbox) is in use; stop what uses it or set {variable}=...")
        sandboxes.append((name, channel, sandbox_port, extra))

    children: list[Child] = []
    for name, channel, sandbox_port, extra in sandboxes:
        cmd = [
            PY,
            "manage.py",
            "run_sandbox",
            channel,
            "--port",
            str(sandbox_port),
            "--seed",
            "1",
            "--new-order-every",
            "120",
            *extra,
        ]
        children.append(Child(name, cmd, env))
    bm_url, lm_url = (f"http://127.0.0.1:{port_}" for _, _, port_, _ in sandboxes)
    try:
        deadline = time.monotonic() + 30
        while not all(port_answers(port_) for _, _, port_, _ in sandboxes):
            if any(child.proc.poll() is not None for child in children) or time.monotonic() > deadline:
                stop_all(children, forced=threading.Event())
                fail("a marketplace sandbox did not start")
            time.sleep(0.2)
        setup(env, bm_url=bm_url, lm_url=lm_url)
    except KeyboardInterrupt:
        say("\nrun_demo: interrupted")
        stop_all(children, forced=threading.Event())
        return 130
    except SystemExit:
        stop_all(children, forced=threading.Event())
        raise

    stop = threading.Event()
    forced = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        received.append(signum)
        if stop.is_set():
            forced.set()  # a second Ctrl-C: don't wait for a graceful stop
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    banner(url, env)
    celery = [PY, "-m", "celery", "-A", "shipping"]
    specs = [
        ("web", [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
        ("worker", [*celery, "worker", "-Q", "default,channels,documents", "-l", "info", "--concurrency=2"]),
        ("beat", [*celery, "beat", "-l", "info"]),
    ]
    for name, cmd in specs:
        if stop.is_set():
            break
        children.append(Child(name, cmd, env))

    # One-off first imports of newly connected stores; the worker keeps importing after that.
    oneshots = [
        Child("import", [PY, "manage.py", "import_orders", "--store", store_id], env)
        for store_id in FIRST_IMPORTS
        if not stop.is_set()
    ]
    exit_code = 0
    announced = False
    started = time.monotonic()
    while not stop.is_set():
        dead = [child for child in children if child.proc.poll() is not None]
        if dead:
            for child in dead:
                code = child.proc.returncode
                say(f"run_demo: {child.name} exited unexpectedly with code {code}; stopping the others")
            exit_code = 1
            break
        if not announced and port_answers(port):
            announced = True
            took = time.monotonic() - started
            say(f"run_demo: ready after {took:.1f}s: open {url} and log in as {EMAIL} / {PASSWORD}")
        stop.wait(0.5)

    if received:
        say(f"\nrun_demo: {signal.Signals(received[0]).name} received; stopping every process")
    stop_all(children + oneshots, forced=forced)
    say("run_demo: all processes stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
