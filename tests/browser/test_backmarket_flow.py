"""A merchant connects Back Market, imports, enters an IMEI, ships, prints the label; the marketplace hears."""

import re
import subprocess

import pytest
from django.core import mail
from playwright.sync_api import expect

from orders.models import Order

from .conftest import BM_TOKEN, login, reload_until, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

BAD_IMEI, GOOD_IMEI = "356938035643808", "356938035643809"  # one check digit apart


def test_connect_sync_enter_imei_ship_print_and_notify(page, live_server, shop, bm_sandbox, celery_worker_thread,
                                                       tmp_path):  # fmt: skip
    merchant, people = shop
    sandbox_order = bm_sandbox.add_order(state=3, lines=1, market="fr-fr")
    order_number = str(sandbox_order["order_id"])
    login(page, live_server, people["owner"])
    screenshot(page, "01-dashboard-empty")

    # Labels need a ship-from address: the owner adds the warehouse.
    page.get_by_role("link", name="Warehouses").click()
    page.get_by_label("Warehouse name").fill("Lyon")
    page.get_by_label("Contact name").fill("Refurb Hub")
    page.get_by_label("Street", exact=True).fill("12 rue de la République")
    page.get_by_label("City").fill("Lyon")
    page.get_by_label("Postal code").fill("69002")
    page.get_by_label("Country (2 letters, e.g. FR)").fill("FR")
    page.get_by_role("button", name="Save warehouse").click()
    expect(page.get_by_role("status").first).to_contain_text("Lyon saved.")
    screenshot(page, "09-warehouses")

    # Connect: the tiles, then Back Market's form; a wrong token is refused with the reason.
    page.get_by_role("link", name="Stores", exact=True).click()
    page.get_by_role("link", name=re.compile("connect a store", re.I)).click()
    screenshot(page, "02-connect-a-store")
    page.get_by_role("link", name="Connect Back Market").click()
    page.get_by_label("Name", exact=True).fill("Back Market FR")
    page.get_by_label("Region").select_option("custom")
    page.get_by_label("Base URL").fill(bm_sandbox.base_url)
    page.get_by_label("API token").fill("d3JvbmctdG9rZW4=")
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("alert").first).to_contain_text(re.compile("token", re.I))
    screenshot(page, "03-connect-back-market-wrong-token")
    page.get_by_label("API token").fill(BM_TOKEN)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Back Market FR")
    screenshot(page, "04-store-settings")

    # Sync now: the worker imports the order.
    page.get_by_role("button", name="Sync now").first.click()
    expect(page.get_by_role("status").first).to_contain_text("queued")
    reload_until(page, lambda p: p.get_by_text(re.compile("succeeded", re.I)).count() > 0, what="the import to finish")
    screenshot(page, "05-sync-log")
    order = Order.objects.get(merchant=merchant, external_id=order_number)

    # The grid shows it; open it.
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("link", name=order.order_number, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.order_number)

    # The IMEI: a typo is refused as it is typed, a valid one accepted, then saved in place.
    line = order.lines.get()
    field = page.get_by_label(re.compile("IMEI or serial number for"))
    feedback = page.locator(f"#identifier-{line.pk}-feedback")
    field.fill(BAD_IMEI)
    expect(feedback).to_contain_text("not a valid IMEI")
    field.fill(GOOD_IMEI)
    expect(feedback).to_have_text("Valid IMEI.")
    screenshot(page, "06-order-details-imei")
    page.locator(f"#line-{line.pk}").get_by_role("button", name="Save").click()
    expect(page.locator(f"#line-{line.pk} .identifier-value")).to_have_text(GOOD_IMEI)
    line.refresh_from_db()
    assert line.imei == GOOD_IMEI

    # Ship it with a generated tracking number.
    page.get_by_label("Carrier", exact=True).select_option("other")
    page.get_by_label("Generate a tracking number").check()
    page.get_by_label("Weight (grams)").fill("420")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_role("status").first).to_contain_text("Shipped.")
    shipment = order.shipments.get()
    assert shipment.tracking_number
    expect(page.locator("h1")).to_contain_text("Shipped")

    # The label PDF (the link opens it in the browser's viewer; fetched here with the same session).
    href = page.get_by_role("link", name="Label (PDF)").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    if response.headers["content-type"] != "application/pdf":
        shown = re.findall(r'class="msg[^>]*>([^<]*)', response.text())
        pytest.fail(f"no label PDF; the page said {shown}")
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(response.body())
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert shipment.tracking_number in text

    # The worker tells Back Market (state 3 with tracking and the IMEI) and emails the customer.
    reload_until(
        page,
        lambda p: (
            "Done" in p.locator("td.notification").inner_text()
            and "Sent" in p.locator("td.customer-email").inner_text()
        ),
        what="the marketplace notification and the customer email",
    )
    screenshot(page, "07-order-details-shipped")
    ship_calls = [
        r for r in bm_sandbox.requests
        if r.method == "POST" and r.path.rstrip("/") == f"/ws/orders/{order_number}"
        and isinstance(r.body, dict) and r.body.get("tracking_number")
    ]  # fmt: skip
    assert ship_calls, [(r.method, r.path, r.body) for r in bm_sandbox.requests]
    assert ship_calls[-1].body["tracking_number"] == shipment.tracking_number
    assert ship_calls[-1].body.get("imei") == GOOD_IMEI
    assert [m.to for m in mail.outbox] == [[order.customer_email]]
