import itertools
from datetime import UTC, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections

from channels import fake
from channels.services.stores import status_mappings_seed
from tests.factories import MembershipFactory, MerchantFactory, StoreFactory

_names = itertools.count()


@pytest.fixture
def market():
    """A fresh in-memory marketplace for one test."""
    name = f"market-{next(_names)}"
    fake.MARKETPLACES[name] = fake.FakeMarketplace(name, page_size=50)
    yield fake.MARKETPLACES[name]
    fake.MARKETPLACES.pop(name, None)


@pytest.fixture
def celery_worker_thread():
    """A real Celery worker (threads) consuming every queue of the configured broker, for end-to-end tests."""
    from shipping.celery import app

    app.control.purge()  # leftovers of other runs must not be consumed by this worker
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        queues=["default", "channels", "documents"],
        loglevel="WARNING",
    ):
        yield
    connections.close_all()


@pytest.fixture
def merchant(db):
    return MerchantFactory()


@pytest.fixture
def store(db, merchant, market):
    store = StoreFactory(merchant=merchant, config={"marketplace": market.name})
    status_mappings_seed(store=store, adapter_cls=fake.FakeAdapter)
    return store


@pytest.fixture
def owner(db, merchant):
    return MembershipFactory(merchant=merchant).user


@pytest.fixture
def client_owner(client, owner):
    client.force_login(owner)
    return client


def when(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def fake_order(order_id: str, *, minutes_ago: float = 30, status: str = "paid", **overrides) -> dict:
    """A raw record of the fake marketplace, shaped like what an adapter receives."""
    record = {
        "id": order_id,
        "number": f"N-{order_id}",
        "status": status,
        "created": when(minutes_ago + 5),
        "modified": when(minutes_ago),
        "currency": "EUR",
        "customer": {"name": "Zofia Wójcik", "email": "zofia@example.com", "phone": "+48 600 100 200"},
        "ship_to": {
            "name": "Zofia Wójcik",
            "street1": "ul. Piotrkowska 104",
            "city": "Łódź",
            "postal_code": "90-006",
            "country": "PL",
        },
        "shipping_method": "Express",
        "payment_method": "Card",
        "shipping": "5.00",
        "lines": [
            {
                "id": f"{order_id}-1",
                "sku": "IPH13-128",
                "name": "iPhone 13 128 GB",
                "qty": 1,
                "price": "329.00",
                "grams": "174",
                "location": "A-01",
            },
        ],
    }
    record.update(overrides)
    return record


@pytest.fixture
def warehouse(merchant):
    """The merchant's default ship-from address (labels need one)."""
    from orders.models import Warehouse

    return Warehouse.objects.create(
        merchant=merchant,
        name="Main",
        is_default=True,
        address_name="Acme Refurb",
        address_street1="1 Dock Rd",
        address_city="London",
        address_postal_code="E16 2QY",
        address_country="GB",
    )
