"""The catalog in the browser: an owner imports a CSV file with a bad row and reads the report, opens a
product, adjusts its stock with a reason and sees the movement; the listing pages; a warehouse worker's view."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import ListingBinding, ListingEvent, ListingSettings, ListingSync, ListingTask, Product
from catalog.services.products import product_create
from catalog.services.stock import stock_adjust
from orders.models import Warehouse
from tests.factories import StoreFactory

from .conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

CSV_FILE = (
    "sku,name,on_hand,price,min_price,grade,backmarket_id\n"
    "IPH13-128-BLU,iPhone 13 128 GB Blue,6,339.00,299.00,1,23774\n"
    "PIX8P-128,Pixel 8 Pro 128 GB,three,499.00,459.00,2,31200\n"
    "SGS23-256,Galaxy S23 256 GB,4,429.00,389.00,2,29811\n"
    "MBA-M1-256,MacBook Air M1 256 GB,2,699.00,720.00,0,21003\n"
)


@pytest.fixture
def catalog_shop(shop):
    merchant, people = shop
    lyon = Warehouse.objects.create(merchant=merchant, name="Lyon", is_default=True, address_name="Refurb Hub",
                                    address_street1="12 rue de la République", address_city="Lyon",
                                    address_postal_code="69002", address_country="FR")  # fmt: skip
    store = StoreFactory(merchant=merchant, kind="back_market", name="Back Market FR")
    ListingSync.objects.create(
        store=store, mode=ListingSync.Mode.QUANTITIES, create_listings=True,
        last_reconcile_at=timezone.now() - timedelta(minutes=40), last_reconcile={"pushed": 2, "unchanged": 14},
    )  # fmt: skip
    owner = people["owner"]
    for sku, name, units, price, state, quantity, extra in (
        ("IPH12-64-BLK", "iPhone 12 64 GB Black", 9, "279.00", 2, 9, {"buybox_winning": True}),
        ("IPH13-128-BLU", "iPhone 13 128 GB Blue", 3, "349.00", 2, 3,
         {"buybox_winning": False, "buybox_price_to_win": Decimal("334.90")}),
        ("PIX7-128", "Pixel 7 128 GB", 0, "259.00", 3, 0, {"last_error": "Listing price is above the max price"}),
        ("SGS22-128", "Galaxy S22 128 GB", 5, "299.00", 2, 4,
         {"deferred_reason": "hourly write budget spent", "deferred_since": timezone.now()}),
    ):  # fmt: skip
        product = product_create(merchant=merchant, sku=sku, name=name, actor=owner)
        if units:
            stock_adjust(product=product, on_hand=units, warehouse=lyon, actor=owner, note="opening count")
        ListingSettings.objects.create(store=store, product=product, enabled=True, price=Decimal(price),
                                       min_price=Decimal(price) - 30, backmarket_id="23774", grade=1)  # fmt: skip
        ListingBinding.objects.create(store=store, product=product, sku=sku, listing_id=f"a1b2-{sku.lower()}",
                                      publication_state=state, remote_quantity=quantity,
                                      remote_price=Decimal(price), remote_currency="EUR", **extra)  # fmt: skip
        ListingEvent.objects.create(merchant=merchant, store=store, product=product, sku=sku, kind="push",
                                    trigger="reconcile", quantity_before=quantity + 1,
                                    quantity_after=quantity)  # fmt: skip
    ListingEvent.objects.create(merchant=merchant, store=store, sku="PIX7-128", kind="failed", trigger="stock",
                                message="Listing price is above the max price (max 249.00)")  # fmt: skip
    ListingTask.objects.create(store=store, task_id="7781234", status="succeeded", skus=["A", "B", "C"], created=2,
                               failed=1, finished_at=timezone.now())  # fmt: skip
    return merchant, people, store


def test_an_owner_imports_a_csv_file_and_adjusts_stock(page, live_server, catalog_shop):
    _merchant, people, _store = catalog_shop
    login(page, live_server, people["owner"])

    page.get_by_role("link", name="Products", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    expect(page.get_by_role("link", name="IPH12-64-BLK")).to_be_visible()
    screenshot(page, "30-products")

    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "products.csv", "mimeType": "text/csv", "buffer": CSV_FILE.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    report = page.locator(".import-report")
    expect(report.get_by_role("status")).to_contain_text("1 created")
    expect(report.get_by_role("status")).to_contain_text("1 updated")
    expect(report.get_by_role("status")).to_contain_text("2 failed")
    bad_rows = report.locator("table.row-errors tbody tr")
    expect(bad_rows).to_have_count(2)
    expect(bad_rows.nth(0)).to_contain_text("3")
    expect(bad_rows.nth(0)).to_contain_text("'three' is not a whole number")
    expect(bad_rows.nth(1)).to_contain_text("min_price 720.00 is above price 699.00")
    screenshot(page, "31-products-import-report")
    assert not Product.objects.filter(sku__in=["PIX8P-128", "MBA-M1-256"]).exists()

    page.get_by_role("link", name="See the products").click()
    page.get_by_label("Search").fill("sgs23")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="SGS23-256").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SGS23-256")
    stock_table = page.locator("table.stock-levels")
    expect(stock_table).to_contain_text("Lyon")

    page.get_by_label("Change on hand by (+ or - units)").check()
    page.get_by_label("Units", exact=True).fill("-1")
    page.get_by_label("Reason").fill("Cracked screen, sent to repair")
    page.get_by_role("button", name="Adjust stock").click()
    expect(page.get_by_role("status").first).to_have_text("Stock adjusted.")
    expect(stock_table.locator("tbody tr").first).to_contain_text("3")
    movement = page.locator("table.movements tbody tr").first
    expect(movement).to_contain_text("Manual adjustment")
    expect(movement).to_contain_text("-1")
    expect(movement).to_contain_text("Cracked screen, sent to repair")
    expect(movement).to_contain_text(people["owner"].email)
    screenshot(page, "32-product-stock-adjusted")

    # A listing setting the service refuses shows on its field.
    page.get_by_label("Minimum price").fill("500")
    page.get_by_role("button", name="Save for Back Market FR").click()
    expect(page.get_by_text("The minimum price cannot be above the default price.")).to_be_visible()
    screenshot(page, "33-product-listing-settings-error")


def test_the_listing_pages_and_a_warehouse_workers_view(page, live_server, catalog_shop):
    _merchant, people, store = catalog_shop
    login(page, live_server, people["owner"])

    page.goto(f"{live_server.url}/products/?listing=errors")
    expect(page.locator("table.products tbody tr")).to_have_count(1)
    expect(page.locator("table.products")).to_contain_text("Listing price is above the max price")

    page.goto(f"{live_server.url}/products/")
    page.get_by_role("link", name="Listings log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Listings log")
    expect(page.locator("table.events")).to_contain_text("Update refused")
    expect(page.locator("table.tasks")).to_contain_text("7781234")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status").first).to_contain_text("A listings sync of Back Market FR has been queued.")
    screenshot(page, "34-listings-log")

    page.goto(f"{live_server.url}/stores/{store.pk}/settings/")
    listings = page.locator("#listings")
    expect(listings).to_contain_text("prices change only through it")
    listings.get_by_label("Prices and quantities").check()
    listings.get_by_label("Repricer").check()
    listings.get_by_role("button", name="Save listing settings").click()
    expect(page.get_by_role("status").first).to_have_text("Listing settings saved.")
    expect(page.locator("#listings").get_by_label("Repricer")).to_be_checked()
    page.locator("#listings").scroll_into_view_if_needed()
    screenshot(page, "35-store-settings-listings")

    page.get_by_role("button", name="Log out").click()
    login(page, live_server, people["warehouse"])
    page.get_by_role("link", name="Products", exact=True).click()
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)
    page.get_by_role("link", name="IPH13-128-BLU").click()
    expect(page.get_by_role("button", name="Adjust stock")).to_have_count(0)
    expect(page.locator("table.bindings")).to_contain_text("334.90 to win")
    screenshot(page, "36-product-warehouse-view")
    assert page.goto(f"{live_server.url}/products/import/").status == 403
    assert re.search(r"/products/import/$", page.url)


def test_an_owner_adds_a_product(page, live_server, catalog_shop):
    _merchant, people, _store = catalog_shop
    login(page, live_server, people["owner"])
    page.goto(f"{live_server.url}/products/")
    page.get_by_role("link", name="Add a product").click()
    page.get_by_label("SKU").fill("iph12-64-blk")  # taken, whatever its case
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_text("Taken.")).to_be_visible()
    screenshot(page, "37-add-a-product-taken")
    page.get_by_label("SKU").fill("IPH15-128-PNK")
    page.get_by_label("Name").fill("iPhone 15 128 GB Pink")
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_role("status").first).to_have_text("IPH15-128-PNK added to the catalog.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("IPH15-128-PNK")
