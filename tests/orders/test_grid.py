"""The orders grid: search, filters, bulk print and hold, batch page; scoped to the merchant."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, PrintBatch
from orders.services.shipments import shipment_create
from tests.factories import MembershipFactory
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(store, merchant, warehouse):
    first = make_order(store, ("IPH13", 1), external_id="1")
    second = make_order(store, ("PXL7", 1), external_id="2")
    Order.objects.filter(pk=first.pk).update(customer_name="Zofia Wójcik", customer_email="zofia@example.com")
    shipment_create(order=second, carrier_code="ups", tracking_number="1Z999AA10123456784", notify_channel=False)
    second.lines.update(serial_number="C02XK1ABJGH5")
    return first, second


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("N1", ["N1"]),
        ("zofia", ["N1"]),
        ("zofia@example.com", ["N1"]),
        ("PXL7", ["N2"]),
        ("1Z999AA10123456784", ["N2"]),
        ("C02XK1ABJGH5", ["N2"]),
        ("nothing", []),
    ],
)
def test_search(client_owner, orders, q, expected):
    page = client_owner.get(reverse("home"), {"status": "all", "q": q}).content.decode()
    assert [n for n in ("N1", "N2") if f">{n}</a>" in page] == expected


def test_filter_by_carrier(client_owner, orders):
    page = client_owner.get(reverse("home"), {"status": "all", "carrier": "ups"}).content.decode()
    assert ">N2</a>" in page and ">N1</a>" not in page


def test_grid_queries_do_not_grow_with_the_page(client_owner, store, orders):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            client_owner.get(reverse("home"), {"status": "all"})
        return len(ctx.captured_queries)

    before = count()
    for n in range(3, 23):
        make_order(store, ("SKU", 2), external_id=str(n))
    assert count() == before


def test_bulk_print_makes_a_batch_page_and_the_pdf(client_owner, merchant, orders, django_capture_on_commit_callbacks):
    first, second = orders
    from orders.services.documents import print_batch_render

    response = client_owner.post(reverse("order-bulk"), {"action": "packing_slips", "orders": [first.pk, second.pk]})
    batch = PrintBatch.objects.get()
    assert response["Location"] == reverse("print-batch", args=[batch.pk])
    assert "0 of 2 rendered" in client_owner.get(response["Location"]).content.decode()
    print_batch_render(batch_id=batch.pk)
    page = client_owner.get(response["Location"]).content.decode()
    assert "2 of 2 rendered" in page and "Open the PDF" in page
    pdf = client_owner.get(response["Location"], {"download": 1})
    assert b"".join(pdf.streaming_content)[:5] == b"%PDF-"

    client_owner.force_login(MembershipFactory().user)
    assert client_owner.get(response["Location"]).status_code == 404


def test_bulk_hold_and_other_merchants_orders_are_refused(client_owner, orders):
    first, _ = orders
    client_owner.post(reverse("order-bulk"), {"action": "hold", "orders": [first.pk]})
    first.refresh_from_db()
    assert first.status == "on_hold"
    client_owner.force_login(MembershipFactory().user)
    client_owner.post(reverse("order-bulk"), {"action": "labels", "orders": [first.pk]})
    assert not PrintBatch.objects.exists()
