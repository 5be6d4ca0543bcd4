"""Products CSV: SellerCloud's columns import, bad rows are reported by row number while the good ones import,
and an export imports back unchanged; the management commands around them."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ListingSettings, Product, StockLevel, StockMovement
from catalog.models.listing import backmarket_id_clean
from catalog.models.stock import Reason
from catalog.services.products_csv import CellError, parse_decimal, products_export_csv, products_import_csv
from orders.models import Warehouse
from shipping.core.errors import ApplicationError
from tests.catalog.conftest import ext_order, import_one, make_product, stock
from tests.factories import MerchantFactory, StoreFactory

pytestmark = pytest.mark.django_db

# As a SellerCloud export comes out of Excel in Europe: a BOM, semicolons, decimal commas, True/False.
SELLERCLOUD_FILE = (
    "\ufeffProductID;ProductName;BACKMARKET_ENABLED_US;BACKMARKET_SAFETY_QTY;BACKMARKET_PRICE_US;"
    "BACKMARKET_MIN_PRICE_US;BACKMARKET_ID;BACKMARKET_GRADE;BACKMARKET_WARRANTY_DELAY;SiteCost\r\n"
    "IPH-XR-64-BLK;iPhone XR 64 GB Black;True;2;329,00;299,50;23774;1;12;180\r\n"
    'MBA-M1-256;"MacBook Air M1; 256 GB";False;;899.00;;cea79c0e-1b2a-4c3d-9e8f-0123456789ab;0;24;\r\n'
).encode()


def test_a_sellercloud_file_imports_with_its_own_column_names(merchant, bm_store):
    report = products_import_csv(merchant=merchant, data=SELLERCLOUD_FILE, store=bm_store, filename="sc.csv")

    assert (report.created, report.updated, report.errors) == (2, 0, [])
    assert report.warnings == ["Column 'SiteCost' is not one we know; it was ignored."]
    phone = Product.objects.get(merchant=merchant, sku="IPH-XR-64-BLK")
    assert phone.name == "iPhone XR 64 GB Black"
    listing = ListingSettings.objects.get(store=bm_store, product=phone)
    assert (listing.enabled, listing.safety_quantity, listing.price, listing.min_price) == (
        True,
        2,
        Decimal("329.00"),
        Decimal("299.50"),
    )
    assert (listing.backmarket_id, listing.backmarket_numeric_id, listing.grade, listing.warranty_months) == (
        "23774",
        23774,
        1,
        12,
    )
    assert listing.backmarket_grade == "VERY_GOOD"
    laptop = ListingSettings.objects.get(store=bm_store, product__sku="MBA-M1-256")
    assert laptop.product.name == "MacBook Air M1; 256 GB"  # a quoted delimiter stays in its cell
    assert (laptop.enabled, laptop.safety_quantity, laptop.min_price) == (False, 0, None)
    assert laptop.backmarket_product_uuid == "cea79c0e-1b2a-4c3d-9e8f-0123456789ab"
    assert (laptop.grade, laptop.backmarket_grade, laptop.warranty_months) == (0, "EXCELLENT", 24)

    again = products_import_csv(merchant=merchant, data=SELLERCLOUD_FILE, store=bm_store)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)  # an upsert: same file, nothing new


def test_bad_rows_are_reported_by_row_number_and_the_good_rows_import(merchant, bm_store, warehouse):
    make_product(merchant, "KNOWN", on_hand=1)
    data = (
        "sku,name,price,min_price,grade,warranty_months,backmarket_id,on_hand,warehouse\n"
        "GOOD-1,Fine,100,90,2,12,23774,5,\n"  # row 2
        "BAD-PRICE,x,12abc,,,,,,\n"  # row 3
        "\n"  # a blank line is skipped, but still counted as a row
        "BAD-WARRANTY,x,100,,,6,,,\n"  # row 5
        "BAD-GRADE,x,100,,7,,,,\n"  # row 6
        "BAD-ID,x,100,,,,iphone-xr,,\n"  # row 7
        "MIN-ABOVE,x,100,120,,,,,\n"  # row 8
        ",no sku,1,,,,,,\n"  # row 9
        "good-1,Again,100,90,2,12,23774,,\n"  # row 10: same SKU (any case) and warehouse as row 2
        "BAD-QTY,x,1,,,,,-3,\n"  # row 11
        "BAD-WH,x,1,,,,,1,Attic\n"  # row 12
        'AMBIGUOUS,x,"1,234",,,,,,\n'  # row 13
        "known,Renamed,50,,4,,,2,main\n"  # row 14: updates KNOWN; warehouse names match case-insensitively
        'EURO,x,"1.234,50",,,,,,\n'  # row 15: a decimal comma with a thousands point
    )
    report = products_import_csv(merchant=merchant, data=data, store=bm_store)

    assert [(error.row, error.sku) for error in report.errors] == [
        (3, "BAD-PRICE"),
        (5, "BAD-WARRANTY"),
        (6, "BAD-GRADE"),
        (7, "BAD-ID"),
        (8, "MIN-ABOVE"),
        (9, ""),
        (10, "good-1"),
        (11, "BAD-QTY"),
        (12, "BAD-WH"),
        (13, "AMBIGUOUS"),
    ]
    messages = [str(error) for error in report.errors]
    assert messages[0] == "row 3: BAD-PRICE: price: '12abc' is not a number"
    assert messages[1] == "row 5: BAD-WARRANTY: warranty_months: 6 is below 12"
    assert "grade 7 is not 0-4" in messages[2]
    assert "neither the number in the product's backmarket.com URL nor a product UUID" in messages[3]
    assert messages[4] == "row 8: MIN-ABOVE: min_price 120 is above price 100"
    assert messages[5] == "row 9: the SKU is empty"
    assert messages[6] == "row 10: good-1: this SKU and warehouse are on row 2 already"
    assert messages[7] == "row 11: BAD-QTY: on_hand: -3 is below 0"
    assert messages[8] == "row 12: BAD-WH: warehouse: there is no warehouse 'Attic'"
    assert "ambiguous" in messages[9]

    assert (report.created, report.updated) == (2, 1)
    assert sorted(Product.objects.filter(merchant=merchant).values_list("sku", flat=True)) == [
        "EURO",
        "GOOD-1",
        "KNOWN",
    ]
    assert ListingSettings.objects.get(product__sku="EURO").price == Decimal("1234.50")
    known = Product.objects.get(sku="KNOWN")
    assert known.name == "Renamed" and ListingSettings.objects.get(product=known).grade == 4
    assert stock(known) == (2, 0, 2) and stock(Product.objects.get(sku="GOOD-1")) == (5, 0, 5)


def test_on_hand_counts_set_the_stock_and_new_skus_allocate_their_open_orders(merchant, store, warehouse):
    annex = Warehouse.objects.create(merchant=merchant, name="Annex")
    import_one(store, ext_order("1", ("NEW-SKU", 2)))  # imported before the catalog knew the SKU

    report = products_import_csv(
        merchant=merchant,
        data="sku;warehouse;on_hand\nNEW-SKU;;10\nNEW-SKU;Annex;4\n",
        filename="counts.csv",
    )

    assert (report.created, report.errors) == (1, [])
    product = Product.objects.get(sku="NEW-SKU")
    assert stock(product) == (14, 2, 12)
    assert {
        (level.warehouse.name, level.on_hand, level.allocated) for level in StockLevel.objects.filter(product=product)
    } == {
        ("Main", 10, 2),
        ("Annex", 4, 0),
    }
    assert report.stock.product_ids == {product.pk}
    notes = sorted(
        StockMovement.objects.filter(product=product, reason=Reason.CSV_UPLOAD).values_list("note", flat=True)
    )
    assert notes == ["counts.csv row 2", "counts.csv row 3"]
    assert StockMovement.objects.filter(product=product, reason=Reason.CATALOG_CHANGE).get().allocated_change == 2
    assert annex.stock_levels.get().on_hand == 4

    recount = products_import_csv(merchant=merchant, data="sku,on_hand\nnew-sku,7\n")
    assert recount.unchanged == 1 and stock(product) == (11, 2, 9)  # only the default warehouse was recounted


def test_an_export_imports_back_unchanged(merchant, bm_store, warehouse):
    Warehouse.objects.create(merchant=merchant, name="Annex")
    products_import_csv(
        merchant=merchant,
        data=(
            "sku,name,image_url,weight_grams,cost,warehouse,on_hand,enabled,safety_quantity,price,min_price,"
            "backmarket_id,grade,warranty_months\n"
            "IPH-XR,iPhone XR,https://img.example.com/xr.jpg,194.5,180.1234,,5,yes,2,329,299.5,23774,1,12\n"
            "IPH-XR,iPhone XR,https://img.example.com/xr.jpg,194.5,180.1234,Annex,3,yes,2,329,299.5,23774,1,12\n"
            'CABLE,"Cable, USB-C",,,,,,no,0,,,,,12\n'
        ),
        store=bm_store,
    )
    out = io.StringIO()
    assert products_export_csv(merchant=merchant, out=out, store=bm_store) == 3
    exported = out.getvalue()
    assert exported.splitlines() == [
        "sku,name,image_url,weight_grams,cost,warehouse,on_hand,enabled,safety_quantity,price,min_price,"
        "backmarket_id,grade,warranty_months",
        'CABLE,"Cable, USB-C",,,,,,false,0,,,,,12',
        "IPH-XR,iPhone XR,https://img.example.com/xr.jpg,194.5,180.1234,Annex,3,true,2,329.00,299.50,23774,1,12",
        "IPH-XR,iPhone XR,https://img.example.com/xr.jpg,194.5,180.1234,Main,5,true,2,329.00,299.50,23774,1,12",
    ]

    same = products_import_csv(merchant=merchant, data=exported, store=bm_store)
    assert (same.created, same.updated, same.unchanged, same.stock_movements, same.errors) == (0, 0, 2, 0, [])

    # Into another merchant with the same warehouse names and a Back Market store: the same catalog comes out.
    other = MerchantFactory()
    Warehouse.objects.create(merchant=other, name="Main", is_default=True)
    Warehouse.objects.create(merchant=other, name="Annex")
    other_store = StoreFactory(merchant=other, kind="back_market")
    assert products_import_csv(merchant=other, data=exported, store=other_store).created == 2
    again = io.StringIO()
    products_export_csv(merchant=other, out=again, store=other_store)
    assert again.getvalue() == exported

    # SellerCloud's names round-trip too.
    sellercloud = io.StringIO()
    products_export_csv(merchant=merchant, out=sellercloud, store=bm_store, sellercloud_names=True)
    assert sellercloud.getvalue().startswith("ProductID,ProductName,image_url,weight_grams,cost,warehouse,on_hand,")
    assert "BACKMARKET_ENABLED_US,BACKMARKET_SAFETY_QTY,BACKMARKET_PRICE_US" in sellercloud.getvalue()
    assert products_import_csv(merchant=merchant, data=sellercloud.getvalue(), store=bm_store).unchanged == 2


def test_store_columns_need_to_know_their_store(merchant, bm_store):
    data = "sku,price\nA,10\n"
    report = products_import_csv(merchant=merchant, data=data)  # the merchant's only Back Market store
    assert report.store_name == bm_store.name
    assert ListingSettings.objects.get(product__sku="A").store == bm_store

    StoreFactory(merchant=merchant, kind="back_market")
    with pytest.raises(ApplicationError, match="say which store"):
        products_import_csv(merchant=merchant, data=data)
    with pytest.raises(ApplicationError, match="no SKU column"):
        products_import_csv(merchant=merchant, data="name,price\nA,10\n")
    with pytest.raises(ApplicationError, match="Two columns mean sku"):
        products_import_csv(merchant=merchant, data="sku,ProductID\nA,A\n")


def test_a_windows_1252_file_is_read_with_a_warning(merchant):
    data = "sku\tname\r\nCAFE-1\tCafé crème\r\n".encode("cp1252")
    report = products_import_csv(merchant=merchant, data=data)
    assert report.created == 1 and Product.objects.get().name == "Café crème"
    assert report.warnings == ["The file is not UTF-8; it was read as Windows-1252."]


def test_the_commands_import_and_export(merchant, bm_store, tmp_path, capsys):
    path = tmp_path / "sellercloud.csv"
    path.write_bytes(SELLERCLOUD_FILE)

    call_command("import_products", merchant.slug, str(path), "--store", str(bm_store.pk), "--dry-run")
    assert "Dry run, nothing saved: 2 row(s)" in capsys.readouterr().out
    assert not Product.objects.exists()

    call_command("import_products", merchant.slug, str(path), "--store", str(bm_store.pk))
    assert capsys.readouterr().out.splitlines()[-1] == "created 2 updated 0 failed 0"

    bad = tmp_path / "bad.csv"
    bad.write_text("sku,on_hand\nOK-1,3\nNOPE,many\nOK-2,x1\n")
    call_command("import_products", merchant.slug, str(bad))  # bad rows are not a failure of the command
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "created 1 updated 0 failed 2"
    assert "row 3: NOPE: on_hand: 'many' is not a whole number" in captured.err
    assert Product.objects.filter(sku="OK-1").exists()  # the good row imported
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_products", merchant.slug, str(tmp_path / "missing.csv"))

    call_command("export_products", "--merchant", merchant.slug, "--store", str(bm_store.pk), "--sellercloud")
    out = capsys.readouterr().out
    assert out.startswith("ProductID,ProductName,")
    assert "IPH-XR-64-BLK,iPhone XR 64 GB Black,,,,,,true,2,329.00,299.50,23774,1,12\n" in out

    with pytest.raises(CommandError, match="No merchant"):
        call_command("export_products", "--merchant", "nobody")
    with pytest.raises(CommandError, match="has no store"):
        call_command("export_products", "--merchant", merchant.slug, "--store", "999999")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("612", Decimal("612")),
        ("612,5", Decimal("612.5")),
        ("1.234,50", Decimal("1234.50")),
        ("1,234.50", Decimal("1234.50")),
        ("$ 329.00", Decimal("329.00")),
        ("", None),
    ],
)
def test_amounts_read_the_way_spreadsheets_write_them(text, value):
    assert parse_decimal(text, places=4, digits=14) == value


@pytest.mark.parametrize("text", ["1,234", "12abc", "-1", "1.23456", "NaN", "1e400"])
def test_amounts_that_are_refused(text):
    with pytest.raises(CellError):
        parse_decimal(text, places=4, digits=14)


def test_back_market_ids_are_a_url_number_or_a_product_uuid():
    assert backmarket_id_clean(" 23774 ") == "23774"
    assert backmarket_id_clean("CEA79C0E1B2A4C3D9E8F0123456789AB") == "cea79c0e-1b2a-4c3d-9e8f-0123456789ab"
    for bad in ("0", "iphone-xr", "12.5", ""):
        with pytest.raises(ValueError, match="neither"):
            backmarket_id_clean(bad)
