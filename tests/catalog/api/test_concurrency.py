"""Inventory transactions racing each other and the order import (PostgreSQL: row locks)."""

import os
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from catalog.models import Product, StockMovement
from catalog.services.products_api import inventory_update_from_api
from shipping.core.errors import ApplicationError
from tests.catalog.conftest import ext_order, import_page, make_product, stock

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="row locks need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def _race(*targets) -> list[Exception]:
    """Run each target in its own thread, all released at the same instant; returns their exceptions."""
    start, errors = threading.Barrier(len(targets)), []

    def run(target):
        try:
            start.wait()
            target()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_decrements_that_fit_only_one_at_a_time_take_turns(merchant, warehouse):
    phone = make_product(merchant, "IPH13", on_hand=10, warehouse=warehouse)

    def take_six():
        inventory_update_from_api(
            merchant=merchant, transaction_type="decrement", sku="IPH13", quantity=6, location_id=warehouse.pk
        )

    [refused] = _race(take_six, take_six)
    assert isinstance(refused, ApplicationError)
    assert refused.field_errors == {"quantity": [f"More than the 4 on hand at location {warehouse.pk}."]}
    assert stock(phone) == (4, 0, 4)  # never below 0
    assert StockMovement.objects.filter(product=phone, on_hand_change=-6).count() == 1
    connections.close_all()


def test_api_transactions_and_an_import_at_once_lose_nothing_and_never_deadlock(store, merchant, warehouse):
    phone = make_product(merchant, "IPH13", on_hand=100, warehouse=warehouse, cost=Decimal("10"))
    page = [ext_order(str(n), ("IPH13", 1)) for n in range(10)]

    def increments():
        for _ in range(5):
            inventory_update_from_api(
                merchant=merchant,
                transaction_type="increment",
                sku="iph13",
                quantity=2,
                location_id=warehouse.pk,
                cost=Decimal("20"),
            )

    def adjusts():
        for count in (150, 160):
            inventory_update_from_api(
                merchant=merchant, transaction_type="adjust", sku="IPH13", quantity=count, location_id=None
            )

    assert _race(increments, lambda: import_page(store, *page)) == []
    assert stock(phone) == (110, 10, 100)
    assert Product.objects.get(pk=phone.pk).cost == Decimal("10.9091")  # (100 x 10 + 10 x 20) / 110, step by step

    assert _race(adjusts, lambda: import_page(store, *[ext_order(f"b{n}", ("IPH13", 1)) for n in range(5)])) == []
    assert stock(phone) == (160, 15, 145)  # a count is a count, whatever the import did meanwhile
    connections.close_all()
