"""The order page reads an order in a fixed number of queries, however many lines and shipments it has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.services.shipments import shipment_create
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


def queries(client, order) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("order-detail", args=[order.pk]))
    assert response.status_code == 200
    assert order.order_number in response.content.decode()
    return len(ctx.captured_queries)


def ship(order, lines, tracking: str):
    return shipment_create(
        order=order, carrier_code="ups", tracking_number=tracking, quantities={line.pk: 1 for line in lines}
    )


def test_the_order_page_costs_the_same_for_1_line_as_for_10_lines_and_3_shipments(client_owner, store, warehouse):
    small = make_order(store, ("IPH13", 1), external_id="1")
    unshipped = queries(client_owner, small)
    ship(small, small.lines.all(), "1Z0000000000000001")

    big = make_order(store, *[(f"SKU-{n}", 3) for n in range(10)], external_id="2")
    lines = list(big.lines.all())
    for n in range(3):
        ship(big, lines, f"1Z00000000000000{n + 10}")
    assert big.shipments.count() == 3 and big.lines.count() == 10

    assert queries(client_owner, small) == queries(client_owner, big)
    # Without shipments Django skips the prefetches below them: fewer queries, never more.
    assert unshipped <= queries(client_owner, small)
