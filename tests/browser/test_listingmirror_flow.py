"""Listing Mirror: the owner connects it; a warehouse worker ships part of an order; Listing Mirror hears."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order, Warehouse

from .conftest import LM_PASSWORD, LM_USERNAME, login, reload_until, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_sync_and_ship_part_of_an_order(page, live_server, shop, lm_sandbox, celery_worker_thread):
    merchant, people = shop
    Warehouse.objects.create(merchant=merchant, name="Main", is_default=True, address_name="Refurb Hub",
                             address_street1="1 Main St", address_city="Austin", address_postal_code="78701",
                             address_country="US")  # fmt: skip
    raw = lm_sandbox.add_order(
        status="Paid", items=[{"sku": "IPAD-9-64", "quantity": 2}, {"sku": "CASE-9", "quantity": 1}]
    )
    login(page, live_server, people["owner"])
    page.goto(f"{live_server.url}/stores/connect/")
    page.get_by_role("link", name="Connect Listing Mirror").click()
    page.get_by_label("Endpoint URL").fill(lm_sandbox.endpoint_url)
    page.get_by_label("Username").fill(LM_USERNAME)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label("Password").fill(LM_PASSWORD)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Listing Mirror")
    page.get_by_role("button", name="Sync now").first.click()
    reload_until(page, lambda p: p.get_by_text(re.compile("succeeded", re.I)).count() > 0, what="the import")
    order = Order.objects.get(merchant=merchant, external_id=raw["order_id"])
    page.get_by_role("button", name="Log out").click()

    # The warehouse worker finds the order by SKU and ships one iPad now, the rest later.
    login(page, live_server, people["warehouse"])
    page.get_by_label("Search").fill("IPAD-9-64")
    page.get_by_label("Search").press("Enter")
    screenshot(page, "10-orders-grid-search")
    page.get_by_role("link", name=order.order_number, exact=True).click()
    expect(page.get_by_label(re.compile("IMEI or serial number for"))).to_have_count(0)  # warehouse: read-only
    page.get_by_label("Carrier", exact=True).select_option("ups")
    page.get_by_label("Service").select_option(label="UPS: UPS Ground")
    page.get_by_label("Tracking number", exact=True).fill("1Z999AA10123456784")
    page.get_by_label("IPAD-9-64 (of 2)").fill("1")
    page.get_by_label("CASE-9 (of 1)").fill("0")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_role("status").first).to_contain_text("Shipped.")
    expect(page.locator("h1")).to_contain_text("Awaiting Shipment")  # partly shipped: still to ship
    expect(page.get_by_label("IPAD-9-64 (of 1)")).to_be_visible()
    shipped_cells = {line.sku: page.locator(f"#line-{line.pk} td").nth(3) for line in order.lines.all()}
    expect(shipped_cells["IPAD-9-64"]).to_have_text("1")
    expect(shipped_cells["CASE-9"]).to_have_text("0")
    expect(page.get_by_label("CASE-9 (of 1)")).to_be_visible()

    reload_until(page, lambda p: "Done" in p.locator("td.notification").inner_text(), what="the ship notice")
    screenshot(page, "11-order-details-partly-shipped")
    shipped = {item["sku"]: item["shipped_quantity"] for item in lm_sandbox.order(raw["order_id"])["items"]}
    assert shipped == {"IPAD-9-64": 1, "CASE-9": 0}
    assert lm_sandbox.order(raw["order_id"])["tracking_numbers"] == ["1Z999AA10123456784"]
