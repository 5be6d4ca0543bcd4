"""Two workers importing the same page at the same time never allocate twice (PostgreSQL: row locks)."""

import os
import threading

import pytest
from django.db import connection, connections, transaction

from catalog.models import Allocation, StockLevel, StockMovement
from catalog.services.stock import stock_sync_orders
from orders.models import Order
from tests.catalog.conftest import ext_order, import_page, make_product, stock

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="row locks need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def _together(target, n: int = 2) -> list[Exception]:
    """Run ``target`` in n threads released at the same instant; returns their exceptions."""
    start, errors = threading.Barrier(n), []

    def run():
        try:
            start.wait()
            target()
        except Exception as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_workers_importing_the_same_page_allocate_once(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=100)
    case = make_product(merchant, "CASE", on_hand=100)
    page = [ext_order(str(n), ("IPH13", 2), ("CASE", 1)) for n in range(20)]

    assert _together(lambda: import_page(store, *page)) == []

    assert Order.objects.filter(store=store).count() == 20
    assert stock(phone) == (100, 40, 60) and stock(case) == (100, 20, 80)
    assert Allocation.objects.count() == 40
    assert StockMovement.objects.filter(product=phone, reason="order_import").count() == 20
    connections.close_all()


def test_two_workers_syncing_the_same_orders_after_a_change_apply_it_once(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=100)
    ids = [r.order_id for r in import_page(store, *[ext_order(str(n), ("IPH13", 1)) for n in range(10)])]
    assert stock(phone) == (100, 10, 90)
    # The marketplace raised every quantity to 3; two workers notice at once.
    with transaction.atomic():
        from orders.models import OrderLine

        OrderLine.objects.filter(order_id__in=ids).update(quantity=3)

    def sync():
        with transaction.atomic():
            stock_sync_orders(order_ids=ids, event="order_import")

    assert _together(sync, n=4) == []

    assert stock(phone) == (100, 30, 70)
    increases = StockMovement.objects.filter(product=phone, allocated_change=2)
    assert increases.count() == 10
    connections.close_all()


def test_workers_creating_the_same_allocation_rows_at_once_count_them_once(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=100)
    ids = [r.order_id for r in import_page(store, *[ext_order(str(n), ("IPH13", 2)) for n in range(10)])]
    # As if the orders had been imported before the stock was kept: no rows yet, nothing allocated.
    Allocation.objects.all().delete()
    StockLevel.objects.filter(product=phone).update(allocated=0)

    def sync():
        with transaction.atomic():
            stock_sync_orders(order_ids=ids, event="catalog_change")

    assert _together(sync, n=4) == []

    assert stock(phone) == (100, 20, 80)
    assert Allocation.objects.count() == 10
    assert StockMovement.objects.filter(product=phone, reason="catalog_change").count() == 10
    connections.close_all()
