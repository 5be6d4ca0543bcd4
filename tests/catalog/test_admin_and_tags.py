"""The admin shows products with their stock, movements and listings; the order page's tag names unknown SKUs."""

import pytest
from django.template import Context, Template

from catalog.models import ListingBinding, ListingSettings, StockLevel, StockMovement
from tests.catalog.conftest import ext_order, import_one, make_product

pytestmark = pytest.mark.django_db


def test_admin_lists_products_with_on_hand_allocated_and_available(admin_client, merchant, store, bm_store):
    phone = make_product(merchant, "IPH13", on_hand=5)
    import_one(store, ext_order("1", ("IPH13", 2)))
    ListingSettings.objects.create(store=bm_store, product=phone, enabled=True, grade=1)
    ListingBinding.objects.create(store=bm_store, product=phone, sku="IPH13", listing_id="5486bfc7-aaaa")

    page = admin_client.get("/admin/catalog/product/").content.decode()
    assert "IPH13" in page
    assert (
        '<td class="field-on_hand">5</td><td class="field-allocated">2</td><td class="field-available">3</td>' in page
    )
    assert admin_client.get(f"/admin/catalog/product/{phone.pk}/change/").status_code == 200
    for model in ("stocklevel", "stockmovement", "allocation", "deduction", "listingsettings", "listingbinding"):
        assert admin_client.get(f"/admin/catalog/{model}/").status_code == 200, model
    # Stock numbers change only through the services (each change a movement): read-only here.
    level = StockLevel.objects.get(product=phone)
    assert admin_client.post(f"/admin/catalog/stocklevel/{level.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/catalog/stockmovement/add/").status_code == 403


def test_admin_adding_a_product_allocates_its_open_orders(admin_client, merchant, store):
    import_one(store, ext_order("1", ("NEW-1", 3)))
    response = admin_client.post(
        "/admin/catalog/product/add/",
        {
            "merchant": merchant.pk,
            "sku": " NEW-1 ",
            "name": "New",
            "stock_levels-TOTAL_FORMS": "0",
            "stock_levels-INITIAL_FORMS": "0",
            "listing_settings-TOTAL_FORMS": "0",
            "listing_settings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StockLevel.objects.get(product__sku="NEW-1").allocated == 3
    assert StockMovement.objects.get(product__sku="NEW-1").reason == "catalog_change"


def test_the_unknown_skus_tag_names_them(merchant, store):
    make_product(merchant, "IPH13")
    order = import_one(store, ext_order("1", ("IPH13", 1), ("CASE-X", 1)))
    html = Template(
        "{% load catalog %}{% unknown_skus order as skus %}{% unknown_sku_line_ids order as flagged %}"
        "{{ skus|join:',' }}|{% for line in order.lines.all %}{% if line.pk in flagged %}{{ line.sku }}{% endif %}"
        "{% endfor %}"
    ).render(Context({"order": order}))
    assert html == "CASE-X|CASE-X"


def test_a_merchant_goes_with_its_catalog_but_a_warehouse_holding_stock_stays(merchant, warehouse):
    from django.db.models import RestrictedError

    from catalog.models import Product
    from shipping.accounts.models import Merchant

    make_product(merchant, "IPH13", on_hand=5)
    with pytest.raises(RestrictedError):
        warehouse.delete()
    merchant.delete()
    assert not Merchant.objects.filter(pk=merchant.pk).exists() and not Product.objects.exists()
    assert not StockLevel.objects.exists() and not StockMovement.objects.exists()
