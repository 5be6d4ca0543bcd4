"""Browser tests: Playwright drives Debian's Chromium against a live server, a real Celery worker and the
marketplace sandboxes (real HTTP, the marketplaces' wire protocols).

Chromium comes from the Debian package (`.ci/run` installs it); Playwright never downloads a browser.
Without it the tests skip on a workstation and fail in CI. Screenshots of every page, at 1366x768, go
to `var/screenshots/` (SCREENSHOT_DIR overrides).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings

from channels.backmarket.sandbox import BackMarketSandbox
from channels.listingmirror.sandbox import CustomStoreSandbox
from tests.factories import MembershipFactory, MerchantFactory

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make there are
# ordinary synchronous ones (microsoft/playwright-pytest#29).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(settings.BASE_DIR) / "var" / "screenshots"))
PASSWORD = "pw-123456"  # tests.factories.UserFactory's
BM_TOKEN = "YnJvd3Nlci10ZXN0LXRva2Vu"
LM_USERNAME, LM_PASSWORD = "lm-browser", "lm-browser-password"

pytestmark = pytest.mark.django_db(transaction=True)


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"Chromium is missing at {CHROMIUM}: .ci/run installs the Debian package chromium")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt install chromium, or set CHROMIUM_PATH)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}, "accept_downloads": True}


@pytest.fixture
def page(page):
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def bm_sandbox():
    sandbox = BackMarketSandbox(token=BM_TOKEN, orders=0, seed=7).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def lm_sandbox():
    sandbox = CustomStoreSandbox(username=LM_USERNAME, password=LM_PASSWORD, orders=0, seed=7).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def shop(transactional_db):
    """A merchant with an owner, a staff member and a warehouse worker (all with PASSWORD)."""
    merchant = MerchantFactory(name="Refurb Hub", company_name="Refurb Hub Ltd")
    people = {
        role: MembershipFactory(merchant=merchant, role=role, user__username=f"{role}@refurb.example").user
        for role in ("owner", "staff", "warehouse")
    }
    return merchant, people


def login(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


def screenshot(page, name: str) -> Path:
    """Full-page PNG at the 1366x768 viewport, named after the page it shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def reload_until(page, predicate, *, timeout: float = 30.0, what: str = "the page to change") -> None:
    """Reload until predicate(page) holds: the worker finishes in its own time."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate(page):
            return
        if time.monotonic() > deadline:
            path = screenshot(page, "failed-" + re.sub(r"\W+", "-", what))
            raise AssertionError(f"timed out waiting for {what} (the page as it was: {path})")
        time.sleep(0.5)
        page.reload()
