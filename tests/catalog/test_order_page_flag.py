"""The order page says which of its SKUs the catalog does not know, once the merchant keeps a catalog."""

import pytest

from catalog.models import Product
from tests.factories import StoreFactory
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


def test_unknown_skus_are_flagged_on_the_order_page_only_when_there_is_a_catalog(client_owner, merchant):
    order = make_order(StoreFactory(merchant=merchant, kind="manual"), ("IPH13", 1), ("CASE-9", 2))
    url = f"/orders/{order.pk}/"
    assert "Not in the catalog" not in client_owner.get(url).content.decode()  # no catalog: stock not tracked

    Product.objects.create(merchant=merchant, sku="iph13", name="iPhone 13")
    page = client_owner.get(url).content.decode()
    assert "Not in the catalog: CASE-9. Stock is not allocated for this SKU" in page

    Product.objects.create(merchant=merchant, sku="CASE-9", name="Case")
    assert "Not in the catalog" not in client_owner.get(url).content.decode()
