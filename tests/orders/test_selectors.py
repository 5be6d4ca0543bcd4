import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.services.order_import_run import order_import_run
from orders.selectors import order_list
from tests.conftest import fake_order

pytestmark = pytest.mark.django_db


def _queries_for_list(merchant) -> int:
    with CaptureQueriesContext(connection) as ctx:
        for order in order_list(merchant=merchant):
            _ = order.store.name, [line.sku for line in order.lines.all()], [tag.name for tag in order.tags.all()]
    return len(ctx.captured_queries)


def test_order_list_uses_the_same_number_of_queries_for_1_and_50_orders(store, market, merchant):
    market.put(fake_order("0"))
    order_import_run(store_id=store.pk)
    one = _queries_for_list(merchant)

    for n in range(1, 50):
        market.put(
            fake_order(
                str(n),
                minutes_ago=1,
                lines=[
                    {"id": f"{n}-1", "sku": "A", "name": "A", "qty": 1, "price": "1"},
                    {"id": f"{n}-2", "sku": "B", "name": "B", "qty": 2, "price": "2"},
                ],
            )
        )
    order_import_run(store_id=store.pk)
    assert len(order_list(merchant=merchant)) == 50

    assert _queries_for_list(merchant) == one == 3  # the orders with their stores, their lines, their tags


def test_order_list_is_scoped_to_the_merchant(store, market):
    from tests.factories import MerchantFactory

    market.put(fake_order("1"))
    order_import_run(store_id=store.pk)
    assert order_list(merchant=MerchantFactory()).count() == 0
