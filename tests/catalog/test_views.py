"""The catalog pages: products grid (filters, sort, pages, constant queries), product page (stock adjustment,
listing settings), add, CSV import and export, the listings log and its run buttons, and who may do what."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from celery import current_app
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import ListingBinding, ListingEvent, ListingSettings, ListingSync, ListingTask, Product, StockLevel
from catalog.models.stock import Reason
from catalog.selectors import PRODUCT_PAGE_SIZE
from catalog.services.listing_runs import listing_run_request
from catalog.services.products_csv import products_import_csv
from orders.models import Warehouse
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError
from tests.catalog.conftest import ext_order, import_one, make_product, stock
from tests.factories import MembershipFactory, StoreFactory

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def member(client, merchant, role):
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)
    return client


def bind(store, product, **fields):
    values = {"sku": product.sku, "listing_id": f"uuid-{product.pk}", "publication_state": 2, "remote_quantity": 3}
    values.update(fields)
    return ListingBinding.objects.create(store=store, product=product, **values)


def rows_of(response) -> list[str]:
    """The SKUs of the products grid, in order."""
    return [product.sku for product in response.context["page"].products]


# --- products grid --------------------------------------------------------------------------------


def test_the_grid_shows_stock_and_the_listing_of_each_product(client_owner, merchant, bm_store, warehouse):
    phone = make_product(merchant, "IPH13-128", on_hand=7, name="iPhone 13 128 GB")
    import_one(bm_store, ext_order("1", ("IPH13-128", 2)))  # an open order holds 2
    ListingSettings.objects.create(
        store=bm_store, product=phone, enabled=True, price=Decimal("339"), min_price=Decimal("300")
    )
    bind(bm_store, phone, remote_quantity=5, remote_price=Decimal("329.5"), remote_currency="EUR",
         buybox_winning=False, buybox_price_to_win=Decimal("319.99"))  # fmt: skip
    make_product(merchant, "CASE-9", name="Case")

    text = page_text(client_owner.get(reverse("product-list")))

    [case, row] = client_owner.get(reverse("product-list")).context["page"].products
    assert (row.on_hand_total, row.allocated_total, row.available_total) == (7, 2, 5)
    assert (row.state, case.state) == ("online", "not_listed")
    for shown in (
        "iPhone 13 128 GB",
        "329.50 EUR",
        "339.00",
        "300.00",
        "Online",
        "Losing",
        "319.99 to win",
        "Not listed",
    ):
        assert shown in text, shown
    assert 'href="/products/export.csv?store=' in text


def test_search_and_filters(client_owner, merchant, bm_store):
    listed = make_product(merchant, "IPH13-128", on_hand=2, name="iPhone 13")
    refused = make_product(merchant, "PIX8-256", on_hand=1, name="Pixel 8")
    held = make_product(merchant, "MBA-M1", name="MacBook Air")
    make_product(merchant, "CASE-9", name="Case for iPhone")
    bind(bm_store, listed)
    bind(bm_store, refused, last_error="Listing price is above the max price")
    bind(bm_store, held, deferred_reason="hourly write budget spent", deferred_since=timezone.now())
    url = reverse("product-list")

    assert rows_of(client_owner.get(url, {"q": "iphone"})) == ["CASE-9", "IPH13-128"]  # name, any case
    assert rows_of(client_owner.get(url, {"q": "pix8"})) == ["PIX8-256"]  # SKU
    assert rows_of(client_owner.get(url, {"listing": "listed"})) == ["IPH13-128", "MBA-M1", "PIX8-256"]
    assert rows_of(client_owner.get(url, {"listing": "not_listed"})) == ["CASE-9"]
    assert rows_of(client_owner.get(url, {"listing": "errors"})) == ["PIX8-256"]
    assert rows_of(client_owner.get(url, {"listing": "deferred"})) == ["MBA-M1"]
    assert rows_of(client_owner.get(url, {"stock": "in_stock"})) == ["IPH13-128", "PIX8-256"]
    assert rows_of(client_owner.get(url, {"stock": "out_of_stock"})) == ["CASE-9", "MBA-M1"]
    assert rows_of(client_owner.get(url, {"stock": "in_stock", "q": "pixel"})) == ["PIX8-256"]
    text = page_text(client_owner.get(url, {"listing": "errors"}))
    assert "Listing price is above the max price" in text and "Error" in text


def test_listing_settings_creation_error_counts_as_an_error(client_owner, merchant, bm_store):
    product = make_product(merchant, "IPH13-128")
    ListingSettings.objects.create(store=bm_store, product=product, enabled=True, creation_error="Unknown product id")
    response = client_owner.get(reverse("product-list"), {"listing": "errors"})
    assert rows_of(response) == ["IPH13-128"] and response.context["page"].products[0].state == "error"
    assert "Unknown product id" in page_text(response)


def test_sort_by_a_column_and_back(client_owner, merchant, bm_store):
    for sku, units, quantity in (("A-1", 5, None), ("B-2", 1, 8), ("C-3", 9, 2)):
        product = make_product(merchant, sku, on_hand=units)
        if quantity is not None:
            bind(bm_store, product, remote_quantity=quantity)
    url = reverse("product-list")

    assert rows_of(client_owner.get(url, {"sort": "available"})) == ["B-2", "A-1", "C-3"]
    assert rows_of(client_owner.get(url, {"sort": "-available"})) == ["C-3", "A-1", "B-2"]
    assert rows_of(client_owner.get(url, {"sort": "bm_quantity"})) == ["C-3", "B-2", "A-1"]  # not listed: last
    assert rows_of(client_owner.get(url, {"sort": "-bm_quantity"})) == ["B-2", "C-3", "A-1"]
    assert rows_of(client_owner.get(url, {"sort": "'; DROP TABLE"})) == ["A-1", "B-2", "C-3"]  # junk: by SKU
    text = page_text(client_owner.get(url, {"sort": "available", "stock": "in_stock"}))
    assert 'aria-sort="ascending"' in text
    assert "stock=in_stock&sort=-available" in text  # the header turns it round and keeps the filter


def test_pages(client_owner, merchant):
    Product.objects.bulk_create(Product(merchant=merchant, sku=f"SKU-{n:03}") for n in range(PRODUCT_PAGE_SIZE + 3))
    url = reverse("product-list")

    first = client_owner.get(url, {"q": "sku"})
    second = client_owner.get(url, {"q": "sku", "page": "2"})

    assert len(rows_of(first)) == PRODUCT_PAGE_SIZE and first.context["page"].has_next
    assert rows_of(second) == ["SKU-050", "SKU-051", "SKU-052"] and not second.context["page"].has_next
    assert "q=sku&page=2" in page_text(first)
    assert rows_of(client_owner.get(url, {"page": "junk"}))[0] == "SKU-000"
    assert rows_of(client_owner.get(url, {"page": "99999999999999999999"}))[0] == "SKU-000"  # junk: the first
    assert rows_of(client_owner.get(url, {"page": "9999"})) == []


def _grid_world(merchant, store, count: int) -> None:
    other = Warehouse.objects.create(merchant=merchant, name=f"Spare {count}")
    for n in range(count):
        product = make_product(merchant, f"Q{count}-{n}", on_hand=3)
        StockLevel.objects.create(product=product, warehouse=other, on_hand=2)
        ListingSettings.objects.create(store=store, product=product, price=Decimal("100"))
        bind(store, product, last_error="x" if n % 2 else "")


def test_the_grid_costs_the_same_queries_for_1_and_30_products(client_owner, merchant, bm_store, warehouse):
    StoreFactory(merchant=merchant, kind="back_market", name="Back Market DE")
    counts = []
    for count in (1, 30):
        Product.objects.filter(merchant=merchant).delete()
        _grid_world(merchant, bm_store, count)
        with CaptureQueriesContext(connection) as queries:
            response = client_owner.get(reverse("product-list"), {"store": bm_store.pk, "sort": "-price"})
        assert len(response.context["page"].products) == count
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_product_page_costs_the_same_queries_for_1_and_20_movements_and_events(
    client_owner, merchant, bm_store, warehouse
):
    counts = []
    for count in (1, 20):
        product = make_product(merchant, f"P{count}", on_hand=1)
        for n in range(count - 1):
            make_product(merchant, f"P{count}-{n}")  # noise from other products
            client_owner.post(
                reverse("product-detail", args=[product.pk]),
                {"action": "adjust", "mode": "change", "quantity": "1", "warehouse": warehouse.pk, "note": f"n{n}"},
            )
        bind(bm_store, product)
        for _ in range(count):
            ListingEvent.objects.create(
                merchant=merchant, store=bm_store, product=product, sku=product.sku, kind="push", trigger="stock"
            )
        with CaptureQueriesContext(connection) as queries:
            response = client_owner.get(reverse("product-detail", args=[product.pk]))
        assert len(response.context["movements"].rows) == count
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


# --- product page -----------------------------------------------------------------------------------


def test_the_product_page_shows_stock_per_warehouse_movements_listings_and_events(
    client_owner, merchant, bm_store, warehouse
):
    lyon = Warehouse.objects.create(merchant=merchant, name="Lyon")
    product = make_product(merchant, "IPH13-128", on_hand=4, name="iPhone 13")
    StockLevel.objects.create(product=product, warehouse=lyon, on_hand=6)
    bind(bm_store, product, remote_quantity=9, remote_price=Decimal("329"), remote_currency="EUR")
    ListingEvent.objects.create(merchant=merchant, store=bm_store, product=product, sku="IPH13-128", kind="push",
                                trigger="stock", quantity_before=8, quantity_after=9)  # fmt: skip

    text = page_text(client_owner.get(reverse("product-detail", args=[product.pk])))

    for shown in ("Main", "Lyon", "Total", "opening count", "Manual adjustment", "329.00 EUR", "Update sent", "8 → 9"):
        assert shown in text, shown
    assert f'name="store-{bm_store.pk}-price"' in text  # the store's listing settings form


def test_stock_adjustment_records_a_movement_and_changes_available(client_owner, owner, merchant, warehouse):
    product = make_product(merchant, "IPH13-128", on_hand=5)
    url = reverse("product-detail", args=[product.pk])

    response = client_owner.post(
        url,
        {"action": "adjust", "mode": "change", "quantity": "-2", "warehouse": warehouse.pk, "note": "cracked screen"},
    )

    assert response.status_code == 302 and response["Location"] == url
    assert stock(product) == (3, 0, 3)
    movement = product.stock_movements.first()
    assert (movement.on_hand_change, movement.reason, movement.note, movement.actor) == (
        -2,
        Reason.MANUAL_ADJUSTMENT,
        "cracked screen",
        owner,
    )
    text = page_text(client_owner.get(url))
    assert "Stock adjusted." in text and "cracked screen" in text

    client_owner.post(
        url, {"action": "adjust", "mode": "set", "quantity": "10", "warehouse": warehouse.pk, "note": "count"}
    )
    assert stock(product) == (10, 0, 10)
    client_owner.post(
        url, {"action": "adjust", "mode": "set", "quantity": "10", "warehouse": warehouse.pk, "note": "again"}
    )
    assert "Nothing changed" in page_text(client_owner.get(url))
    assert product.stock_movements.count() == 3  # the opening count, -2, set to 10


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"mode": "change", "quantity": "0", "note": "x"}, "A change of 0 changes nothing."),
        ({"mode": "set", "quantity": "-3", "note": "x"}, "A count cannot be below 0."),
        ({"mode": "change", "quantity": "2", "note": ""}, "This field is required."),
        ({"mode": "change", "quantity": "two", "note": "x"}, "Enter a whole number."),
        ({"mode": "change", "quantity": "2", "note": "x", "warehouse": "999999"}, "Select a valid choice."),
        ({"mode": "sideways", "quantity": "2", "note": "x"}, "Select a valid choice."),
    ],
)
def test_stock_adjustment_errors_show_on_the_form(client_owner, merchant, warehouse, form, error):
    product = make_product(merchant, "IPH13-128", on_hand=5)
    response = client_owner.post(
        reverse("product-detail", args=[product.pk]), {"action": "adjust", "warehouse": warehouse.pk, **form}
    )
    assert error in page_text(response)
    assert stock(product) == (5, 0, 5)


def test_another_merchants_warehouse_cannot_be_chosen(client_owner, merchant, warehouse):
    product = make_product(merchant, "IPH13-128", on_hand=5)
    theirs = Warehouse.objects.create(merchant=StoreFactory().merchant, name="Theirs")
    response = client_owner.post(
        reverse("product-detail", args=[product.pk]),
        {"action": "adjust", "mode": "change", "quantity": "3", "warehouse": theirs.pk, "note": "x"},
    )
    assert "Select a valid choice." in page_text(response)
    assert not StockLevel.objects.filter(warehouse=theirs).exists()


def test_listing_settings_save_and_show_field_errors(client_owner, merchant, bm_store):
    product = make_product(merchant, "IPH13-128")
    url = reverse("product-detail", args=[product.pk])
    prefix = f"store-{bm_store.pk}-"
    form = {
        "action": "listing",
        "store": bm_store.pk,
        prefix + "enabled": "on",
        prefix + "safety_quantity": "2",
        prefix + "price": "339.00",
        prefix + "min_price": "299.5",
        prefix + "backmarket_id": " 23774 ",
        prefix + "grade": "1",
        prefix + "warranty_months": "12",
    }

    assert client_owner.post(url, form).status_code == 302
    settings = ListingSettings.objects.get(store=bm_store, product=product)
    assert (settings.enabled, settings.safety_quantity, settings.price, settings.min_price) == (
        True,
        2,
        Decimal("339.00"),
        Decimal("299.50"),
    )
    assert (settings.backmarket_id, settings.grade, settings.warranty_months) == ("23774", 1, 12)
    assert 'value="339.00"' in page_text(client_owner.get(url))

    above = page_text(client_owner.post(url, {**form, prefix + "min_price": "400"}))  # the service's check
    assert "The minimum price cannot be above the default price." in above
    short = page_text(client_owner.post(url, {**form, prefix + "warranty_months": "6"}))  # the form's
    assert "Ensure this value is greater than or equal to 12." in short
    bad_id = page_text(client_owner.post(url, {**form, prefix + "backmarket_id": "not-an-id"}))
    assert "neither the number in the product" in bad_id
    settings.refresh_from_db()
    assert (settings.min_price, settings.warranty_months, settings.backmarket_id) == (Decimal("299.5"), 12, "23774")


def test_listing_settings_for_a_store_that_is_not_a_back_market_store_of_the_merchant(client_owner, merchant):
    product = make_product(merchant, "IPH13-128")
    url = reverse("product-detail", args=[product.pk])
    for store in (StoreFactory(merchant=merchant, kind="manual"), StoreFactory(kind="back_market")):
        response = client_owner.post(url, {"action": "listing", "store": store.pk})
        assert response.status_code == 404
    assert not ListingSettings.objects.exists()


# --- add, import, export ---------------------------------------------------------------------------


def test_add_a_product(client_owner, merchant, bm_store):
    order = import_one(bm_store, ext_order("1", ("IPH13-128", 2)))
    response = client_owner.post(
        reverse("product-create"), {"sku": " IPH13-128 ", "name": "iPhone 13", "weight_grams": "174", "cost": "250"}
    )
    product = Product.objects.get(merchant=merchant)
    assert response.status_code == 302 and response["Location"] == reverse("product-detail", args=[product.pk])
    assert (product.sku, product.weight_grams, product.cost) == ("IPH13-128", Decimal("174"), Decimal("250"))
    assert stock(product) == (0, 2, -2)  # the open order took its units at once
    assert order.pk

    again = page_text(client_owner.post(reverse("product-create"), {"sku": "iph13-128"}))
    assert "Taken." in again
    junk = page_text(client_owner.post(reverse("product-create"), {"sku": "X", "image_url": "ftp://x.example/a.png"}))
    assert "An http or https address." in junk
    assert Product.objects.count() == 1


CSV_WITH_A_BAD_ROW = (
    "sku,name,on_hand,price,min_price,grade\n"
    "IPH13-128,iPhone 13,4,339,299,1\n"
    "PIX8-256,Pixel 8,two,499,,2\n"
    "MBA-M1,MacBook Air,1,899,,0\n"
)


def test_csv_upload_reports_the_bad_row_and_imports_the_others(client_owner, merchant, bm_store, warehouse):
    make_product(merchant, "MBA-M1", name="Old name")
    upload = io.BytesIO(CSV_WITH_A_BAD_ROW.encode())
    upload.name = "products.csv"

    text = page_text(client_owner.post(reverse("product-import"), {"file": upload, "store": ""}))

    assert "<strong>1</strong> created, <strong>1</strong> updated" in text
    assert "Store columns were applied to" in text  # the only Back Market store
    assert '<td class="num">3</td><td>PIX8-256</td><td>on_hand: &#x27;two&#x27; is not a whole number</td>' in text
    assert set(Product.objects.values_list("sku", flat=True)) == {"IPH13-128", "MBA-M1"}
    phone = Product.objects.get(sku="IPH13-128")
    assert stock(phone) == (4, 0, 4)
    assert phone.stock_movements.get().note == "products.csv row 2"
    assert ListingSettings.objects.get(product=phone, store=bm_store).min_price == Decimal("299")


def test_csv_upload_file_level_errors(client_owner):
    for content, error in (
        (b"name,price\nx,1\n", "The file has no SKU column"),
        (b"", "The submitted file is empty."),
    ):
        upload = io.BytesIO(content)
        upload.name = "x.csv"
        assert error in page_text(client_owner.post(reverse("product-import"), {"file": upload}))
    assert "This field is required." in page_text(client_owner.post(reverse("product-import"), {}))
    assert not Product.objects.exists()


def test_export_imports_back_unchanged(client_owner, merchant, bm_store, warehouse):
    Warehouse.objects.create(merchant=merchant, name="Lyon")
    upload = io.BytesIO(
        b"sku,name,warehouse,on_hand,enabled,price,min_price,backmarket_id,grade,warranty_months\n"
        b"IPH13-128,iPhone 13 \xc3\xa9,,4,true,339.00,299.00,23774,1,24\n"
        b"IPH13-128,iPhone 13 \xc3\xa9,Lyon,2,true,339.00,299.00,23774,1,24\n"
        b"CASE-9,Case,,10,false,,,,,12\n"
    )
    upload.name = "first.csv"
    client_owner.post(reverse("product-import"), {"file": upload, "store": bm_store.pk})

    response = client_owner.get(reverse("product-export"), {"store": bm_store.pk})

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    body = response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [(r["sku"], r["warehouse"], r["on_hand"], r["price"]) for r in rows] == [
        ("CASE-9", "Main", "10", ""),
        ("IPH13-128", "Lyon", "2", "339.00"),
        ("IPH13-128", "Main", "4", "339.00"),
    ]
    assert rows[1]["name"] == "iPhone 13 é"
    report = products_import_csv(merchant=merchant, data=body, store=bm_store)
    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 2, [])
    assert report.stock_movements == 0

    plain = client_owner.get(reverse("product-export"), {"store": "junk"}).content.decode("utf-8-sig")
    assert plain.splitlines()[0] == "sku,name,image_url,weight_grams,cost,warehouse,on_hand"
    sellercloud = client_owner.get(reverse("product-export"), {"store": bm_store.pk, "names": "sellercloud"})
    assert sellercloud.content.decode("utf-8-sig").startswith("ProductID,ProductName,")


# --- listings log and run buttons ------------------------------------------------------------------


def test_the_listings_log_filters_events_and_lists_tasks(client_owner, merchant, bm_store):
    other = StoreFactory(merchant=merchant, kind="back_market", name="Back Market DE")
    product = make_product(merchant, "IPH13-128")
    ListingEvent.objects.create(merchant=merchant, store=bm_store, product=product, sku="IPH13-128", kind="push",
                                trigger="stock", quantity_before=1, quantity_after=2)  # fmt: skip
    ListingEvent.objects.create(merchant=merchant, store=other, sku="GHOST-1", kind="zero", trigger="reconcile",
                                quantity_before=3, quantity_after=0, message="not in the catalog")  # fmt: skip
    ListingEvent.objects.create(merchant=merchant, store=bm_store, sku="PIX8", kind="failed", trigger="stock",
                                message="Listing price is above the max price")  # fmt: skip
    ListingTask.objects.create(store=bm_store, task_id="9001", status="failed", skus=["A", "B", "C"], created=1,
                               failed=2, error="CSV row 3: unknown product")  # fmt: skip
    ListingEvent.objects.create(merchant=StoreFactory().merchant, store=StoreFactory(kind="back_market"),
                                sku="SECRET-SKU", kind="push", trigger="stock")  # fmt: skip
    url = reverse("listings-log")

    text = page_text(client_owner.get(url))
    assert all(sku in text for sku in ("IPH13-128", "GHOST-1", "PIX8")) and "SECRET-SKU" not in text
    assert "CSV row 3: unknown product" in text and "Failed" in text and "9001" in text
    by_store = page_text(client_owner.get(url, {"store": other.pk}))
    assert "GHOST-1" in by_store and "IPH13-128" not in by_store
    refused = page_text(client_owner.get(url, {"kind": "failed"}))
    assert "PIX8" in refused and "GHOST-1" not in refused


def test_the_listings_log_pages_back_in_time(client_owner, merchant, bm_store):
    for n in range(30):
        ListingEvent.objects.create(merchant=merchant, store=bm_store, sku=f"E{n:02}", kind="push", trigger="stock")
    ListingEvent.objects.update(created_at=timezone.now() - timedelta(hours=1))  # one instant: the id decides
    url = reverse("listings-log")

    first = client_owner.get(url, {"kind": "push"})
    older = first.context["events"].older
    second = client_owner.get(url, {"kind": "push", "before": older})

    assert [e.sku for e in first.context["events"].rows][:2] == ["E29", "E28"]
    assert [e.sku for e in second.context["events"].rows] == ["E04", "E03", "E02", "E01", "E00"]
    assert second.context["events"].older is None
    assert f"kind=push&before={older}" in page_text(first)
    assert client_owner.get(url, {"before": "junk"}).context["events"].newest


@pytest.fixture
def syncing(bm_store):
    return ListingSync.objects.create(store=bm_store, mode=ListingSync.Mode.QUANTITIES, repricer=True)


@pytest.mark.parametrize(
    ("action", "task"),
    [
        ("reconcile", "channels.tasks.reconcile_listings"),
        ("create", "channels.tasks.create_listings"),
        ("reprice", "channels.tasks.reprice_listings"),
    ],
)
def test_run_buttons_send_the_task_by_name_on_commit(
    client_owner, bm_store, syncing, django_capture_on_commit_callbacks, action, task
):
    with mock.patch.object(current_app, "send_task") as send_task:
        with django_capture_on_commit_callbacks() as callbacks:
            response = client_owner.post(reverse("listing-run"), {"store": bm_store.pk, "action": action})
            send_task.assert_not_called()  # not before the commit
        for callback in callbacks:
            callback()
    assert response.status_code == 302 and response["Location"] == reverse("listings-log")
    send_task.assert_called_once_with(task, args=[bm_store.pk], kwargs={"trigger": "manual"})
    assert "has been queued" in page_text(client_owner.get(response["Location"]))


def test_run_buttons_refuse_what_the_store_settings_do_not_allow(
    client_owner, merchant, bm_store, django_capture_on_commit_callbacks
):
    url = reverse("listing-run")
    with mock.patch.object(current_app, "send_task") as send_task, django_capture_on_commit_callbacks(execute=True):
        off = client_owner.post(url, {"store": bm_store.pk, "action": "reconcile"}, follow=True)
        ListingSync.objects.create(store=bm_store, mode=ListingSync.Mode.QUANTITIES)
        no_repricer = client_owner.post(url, {"store": bm_store.pk, "action": "reprice"}, follow=True)
        junk = client_owner.post(url, {"store": bm_store.pk, "action": "delete_everything"}, follow=True)
        manual = StoreFactory(merchant=merchant, kind="manual")
        not_back_market = client_owner.post(url, {"store": manual.pk, "action": "reconcile"})
        not_theirs = client_owner.post(url, {"store": StoreFactory(kind="back_market").pk, "action": "reconcile"})
    send_task.assert_not_called()
    assert "The listing sync of" in page_text(off) and "is off" in page_text(off)
    assert "The repricer of" in page_text(no_repricer)
    assert "Choose a store and a run." in page_text(junk)
    assert (not_back_market.status_code, not_theirs.status_code) == (404, 404)
    assert client_owner.get(url).status_code == 405


def test_listing_run_request_checks_the_store(merchant, bm_store, syncing, django_capture_on_commit_callbacks):
    with pytest.raises(ApplicationError, match="Back Market stores only"):
        listing_run_request(store=StoreFactory(merchant=merchant, kind="manual"), action="reconcile")
    bm_store.is_active = False
    with pytest.raises(ApplicationError, match="deactivated"):
        listing_run_request(store=bm_store, action="reconcile")
    with pytest.raises(ApplicationError, match="Unknown listing run"):
        listing_run_request(store=bm_store, action="x")


# --- who may do what -------------------------------------------------------------------------------


def test_warehouse_users_see_but_do_not_change(client, merchant, bm_store, syncing, warehouse):
    product = make_product(merchant, "IPH13-128", on_hand=5)
    ListingSettings.objects.create(store=bm_store, product=product, price=Decimal("339"))
    member(client, merchant, Role.WAREHOUSE)
    detail = reverse("product-detail", args=[product.pk])

    for url in (reverse("product-list"), detail, reverse("listings-log")):
        text = page_text(client.get(url))
        assert "Add a product" not in text and "Adjust stock" not in text and "Sync now" not in text
    assert "339.00" in page_text(client.get(detail))  # the settings, read only
    for url in (reverse("product-create"), reverse("product-import"), reverse("product-export")):
        assert client.get(url).status_code == 403, url
    adjust = {"action": "adjust", "mode": "change", "quantity": "3", "warehouse": warehouse.pk, "note": "x"}
    assert client.post(detail, adjust).status_code == 403
    assert client.post(detail, {"action": "listing", "store": bm_store.pk}).status_code == 403
    assert client.post(reverse("listing-run"), {"store": bm_store.pk, "action": "reconcile"}).status_code == 403
    assert stock(product) == (5, 0, 5)


def test_staff_adjust_stock_and_run_the_sync(client, merchant, bm_store, syncing, warehouse):
    product = make_product(merchant, "IPH13-128", on_hand=5)
    member(client, merchant, Role.STAFF)
    text = page_text(client.get(reverse("listings-log")))
    assert "Sync now" in text
    response = client.post(
        reverse("product-detail", args=[product.pk]),
        {"action": "adjust", "mode": "change", "quantity": "3", "warehouse": warehouse.pk, "note": "x"},
    )
    assert response.status_code == 302 and stock(product) == (8, 0, 8)
    assert client.get(reverse("product-import")).status_code == 200


def test_another_merchants_product_is_not_found(client_owner, merchant):
    theirs = make_product(StoreFactory().merchant, "IPH13-128", name="Their phone")
    url = reverse("product-detail", args=[theirs.pk])
    assert client_owner.get(url).status_code == 404
    adjust = {"action": "adjust", "mode": "change", "quantity": "3", "note": "x"}
    assert client_owner.post(url, adjust).status_code == 404
    assert "Their phone" not in page_text(client_owner.get(reverse("product-list")))
    assert "IPH13-128" not in client_owner.get(reverse("product-export")).content.decode()
    assert stock(theirs) == (0, 0, 0)


def test_pages_need_a_login_and_forms_need_the_csrf_token(merchant, owner):
    from django.test import Client

    anonymous = Client()
    for url in (reverse("product-list"), reverse("product-export"), reverse("listings-log")):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    product = make_product(merchant, "IPH13-128", on_hand=5)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    adjust = {"action": "adjust", "mode": "change", "quantity": "3", "note": "x"}
    assert strict.post(reverse("product-detail", args=[product.pk]), adjust).status_code == 403
    assert stock(product) == (5, 0, 5)


def test_the_nav_links_to_products(client_owner):
    assert '<a href="/products/">Products</a>' in page_text(client_owner.get(reverse("home")))


# --- the Back Market store's settings: the Listings section ------------------------------------------


def test_store_settings_listing_section_saves_the_switches(client_owner, merchant, bm_store):
    url = reverse("store-settings", args=[bm_store.pk])
    text = page_text(client_owner.get(url))
    assert "Listings" in text and "prices change only through it" in text and "Quantities still follow stock" in text
    assert re.search(r'<input type="radio" name="mode" value="off"[^>]* checked>', text)  # never set: off

    response = client_owner.post(url, {"action": "listings", "mode": "prices_and_quantities", "repricer": "on"})

    assert response.status_code == 302
    sync = ListingSync.objects.get(store=bm_store)
    assert (sync.mode, sync.repricer, sync.create_listings) == ("prices_and_quantities", True, False)
    assert "Listing settings saved." in page_text(client_owner.get(url))

    bad = page_text(client_owner.post(url, {"action": "listings", "mode": "everything"}))
    assert "Select a valid choice." in bad
    assert ListingSync.objects.get(store=bm_store).mode == "prices_and_quantities"


def test_store_settings_shows_the_last_runs(client_owner, bm_store):
    ListingSync.objects.create(
        store=bm_store,
        mode="quantities",
        last_reconcile_at=timezone.now(),
        last_reconcile={"pushed": 3, "not_found": 1},
    )
    text = page_text(client_owner.get(reverse("store-settings", args=[bm_store.pk])))
    assert "pushed 3 · not found 1" in text


def test_store_settings_of_other_stores_have_no_listing_section(client_owner, merchant):
    store = StoreFactory(merchant=merchant, kind="manual")
    text = page_text(client_owner.get(reverse("store-settings", args=[store.pk])))
    assert "Create listings every hour" not in text
    response = client_owner.post(
        reverse("store-settings", args=[store.pk]), {"action": "listings", "mode": "quantities"}
    )
    assert response.status_code == 200 and not ListingSync.objects.exists()


JUNK = ["", "x", "-1", "0", "99999999999999999999", "1e309", "nan", "' OR 1=1 --", "\x00", "é" * 500]


def test_junk_in_the_product_page_forms_never_gives_a_server_error(merchant, owner, bm_store, warehouse):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(owner)
    product = make_product(merchant, "IPH13-128", on_hand=5)
    url = reverse("product-detail", args=[product.pk])
    prefix = f"store-{bm_store.pk}-"
    listing = ["enabled", "safety_quantity", "price", "min_price", "backmarket_id", "grade", "warranty_months"]
    for junk in JUNK:
        for action, fields in (
            ("adjust", ["mode", "quantity", "warehouse", "note"]),
            ("listing", [prefix + name for name in listing]),
        ):
            form = {"action": action, "store": bm_store.pk, **{name: junk for name in fields}}
            assert client.post(url, form).status_code < 500, (action, junk)
            assert client.post(url, {**form, "mode": "change", "quantity": "2"}).status_code < 500, (action, junk)
        for data in ({"store": junk, "action": "reconcile"}, {"store": bm_store.pk, "action": junk}):
            assert client.post(reverse("listing-run"), data).status_code < 500, junk
        assert client.get(reverse("product-export"), {"store": junk, "names": junk}).status_code == 200
    assert stock(product)[0] in (5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25)  # only whole "+2" changes went through
