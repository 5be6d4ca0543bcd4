"""Every page a merchant uses, in the browser, with data on it; each one is screenshotted at 1366x768."""

import re

import pytest
from playwright.sync_api import expect

from channels.models import SyncIssue
from orders.models import Order, Warehouse
from tests.factories import StoreFactory
from tests.orders.test_shipments import make_order

from .conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy_shop(shop):
    merchant, people = shop
    Warehouse.objects.create(merchant=merchant, name="Lyon", is_default=True, address_name="Refurb Hub",
                             address_street1="12 rue de la République", address_city="Lyon",
                             address_postal_code="69002", address_country="FR")  # fmt: skip
    phones = StoreFactory(merchant=merchant, kind="manual", name="Phone shop")
    bm = StoreFactory(merchant=merchant, kind="back_market", name="Back Market FR")
    orders = [make_order(phones, (f"IPH{n}", 1), ("CASE-9", n % 3 + 1), external_id=str(100 + n)) for n in range(6)]
    orders += [make_order(bm, ("PIX8P-128", 1), external_id=str(900 + n)) for n in range(3)]
    people_and_places = [
        ("Camille Durand", "Lyon", "FR"), ("Jonas Becker", "Köln", "DE"), ("Lucía Martín", "Sevilla", "ES"),
        ("Giulia Russo", "Torino", "IT"), ("Emma Janssen", "Utrecht", "NL"), ("Olivia Smith", "Leeds", "GB"),
        ("Noah Dubois", "Bordeaux", "FR"), ("Zofia Wójcik", "Łódź", "PL"), ("Liam Murphy", "Cork", "IE"),
    ]  # fmt: skip
    for order, (name, city, country) in zip(orders, people_and_places, strict=True):
        Order.objects.filter(pk=order.pk).update(
            customer_name=name, ship_to_name=name, ship_to_city=city, ship_to_country=country,
            customer_email=f"{name.split()[0].lower()}@example.com", currency="EUR",
        )  # fmt: skip
    SyncIssue.objects.create(store=bm, kind="quarantined", external_id="40000999",
                             message="No shipping address in the order: nothing to ship to.",
                             payload={"order_id": 40000999, "shipping_address": None, "state": 1})  # fmt: skip
    return merchant, people, orders


def test_the_pages_of_an_owner(page, live_server, busy_shop, celery_worker_thread):
    _merchant, people, orders = busy_shop
    login(page, live_server, people["owner"])

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("svg").first).to_be_visible()
    screenshot(page, "13-dashboard")

    page.get_by_role("link", name="Stores", exact=True).click()
    expect(page.get_by_role("cell", name="Back Market FR")).to_be_visible()
    screenshot(page, "14-stores")
    page.get_by_role("link", name="Back Market FR").click()
    expect(page.get_by_text("No shipping address in the order")).to_be_visible()
    screenshot(page, "15-sync-log-with-issue")

    # Select two orders in the grid, print their packing slips: progress, then the PDF opens.
    page.get_by_role("link", name="Orders", exact=True).click()
    screenshot(page, "16-orders-grid")
    for order in orders[:2]:
        page.get_by_label(f"Select order {order.order_number}").check()
    page.get_by_label("With the selected orders").select_option("packing_slips")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Packing slips for 2 orders")
    screenshot(page, "17-print-batch")
    page.wait_for_url(re.compile(r"download=1$"), timeout=60_000)

    # Mark two more shipped from the grid, with the own fleet's tracking numbers.
    page.goto(f"{live_server.url}/")
    for order in orders[2:4]:
        page.get_by_label(f"Select order {order.order_number}").check()
    page.get_by_label("With the selected orders").select_option("ship")
    page.get_by_label("Ship with").select_option("own_fleet")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("status").first).to_contain_text("2 order(s) marked shipped.")
    expect(page.get_by_label(f"Select order {orders[2].order_number}")).to_have_count(0)  # left the tab

    # A warehouse tablet (1024x768, landscape): the order page still fits, wide tables scroll inside.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/orders/{orders[0].pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "19-order-details-tablet")
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"{live_server.url}/team/")
    page.get_by_label("Name", exact=True).fill("ERP")
    page.get_by_role("button", name="Create an API key").click()
    expect(page.get_by_role("alert")).to_contain_text("shown only once")
    screenshot(page, "18-team-and-api-keys")
