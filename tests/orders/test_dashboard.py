import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MembershipFactory, StoreFactory
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


def test_dashboard_counts_and_stores_needing_attention(client_owner, merchant, store):
    make_order(store, ("A", 1), external_id="1")
    make_order(store, ("B", 1), external_id="2")
    StoreFactory(merchant=merchant, name="Broken BM", kind="back_market", needs_new_credentials=True)

    page = client_owner.get(reverse("dashboard")).content.decode()

    assert "Broken BM</a>:\n    needs new credentials" in page
    assert f'<td>{store.name}</td><td class="num">2</td>' in page
    assert "<title>" in page and ": 2</title>" in page  # today's bar in the 30-day chart


def test_dashboard_is_scoped_and_does_not_grow_with_orders(client, merchant, store):
    other = MembershipFactory().user
    client.force_login(other)
    make_order(store, ("A", 1))
    assert store.name not in client.get(reverse("dashboard")).content.decode()

    client.force_login(MembershipFactory(merchant=merchant).user)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard"))
    for n in range(2, 12):
        make_order(store, ("A", 1), external_id=str(n))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("dashboard"))
    assert len(many) == len(few)
