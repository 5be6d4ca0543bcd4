"""Batches of labels and packing slips: one PDF per kind, in pick order, failures reported per order."""

import io

import pytest
from pypdf import PdfReader

from orders.models import Order, PrintBatch
from orders.services.documents import label_render, packing_slip_render, print_batch_create, print_batch_render
from orders.services.shipments import shipment_create
from shipping.core.errors import ApplicationError
from tests.factories import MerchantFactory
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


def pages(field_file) -> list[str]:
    field_file.open("rb")
    try:
        return [page.extract_text() for page in PdfReader(io.BytesIO(field_file.read())).pages]
    finally:
        field_file.close()


@pytest.fixture
def fifty_shipped_orders(store, warehouse):
    orders = []
    for n in range(50):
        # Stock locations in reverse of the order numbers, so pick order differs from creation order.
        order = make_order(store, (f"SKU-{n:02d}", 1), external_id=str(1000 + n))
        order.lines.update(stock_location=f"A-{50 - n:02d}")
        Order.objects.filter(pk=order.pk).update(ship_to_name="Zofia Wójcik", ship_to_city="Łódź")
        shipment_create(
            order=order, carrier_code="own_fleet", generate_tracking=True, notify_customer=False, notify_channel=False
        )
        orders.append(order)
    return orders


def test_a_50_order_batch_gives_one_pdf_of_50_pages_of_each_kind_in_pick_order(merchant, fifty_shipped_orders):
    ids = [order.pk for order in fifty_shipped_orders]

    labels = print_batch_render(batch_id=print_batch_create(merchant=merchant, kind="labels", order_ids=ids).pk)
    slips = print_batch_render(batch_id=print_batch_create(merchant=merchant, kind="packing_slips", order_ids=ids).pk)

    for batch in (labels, slips):
        assert (batch.status, batch.done, batch.total, batch.errors) == ("done", 50, 50, {})
        text = pages(batch.file)
        assert len(text) == 50
        numbers = [next(f"N{n}" for n in range(1000, 1050) if f"N{n}" in page) for page in text]
        assert numbers == [f"N{n}" for n in range(1049, 999, -1)]  # A-01 first: the last order created
        assert "Łódź" in text[0]


def test_an_order_that_cannot_be_printed_is_reported_and_the_batch_goes_on(merchant, store, warehouse):
    shipped = make_order(store, ("SKU-1", 1), external_id="1")
    shipment_create(order=shipped, carrier_code="own_fleet", generate_tracking=True, notify_channel=False)
    unshipped = make_order(store, ("SKU-2", 1), external_id="2")

    batch = print_batch_render(
        batch_id=print_batch_create(merchant=merchant, kind="labels", order_ids=[shipped.pk, unshipped.pk]).pk
    )

    assert batch.status == "done"
    assert len(pages(batch.file)) == 1
    assert "has no shipment yet" in batch.errors[str(unshipped.pk)]


def test_batches_only_take_the_merchants_own_orders(merchant, store):
    order = make_order(store, ("SKU-1", 1))
    with pytest.raises(ApplicationError, match="do not exist"):
        print_batch_create(merchant=MerchantFactory(), kind="labels", order_ids=[order.pk])
    assert not PrintBatch.objects.exists()


def test_single_documents_are_kept_for_reprint(store, warehouse):
    order = make_order(store, ("SKU-1", 1))
    shipment = shipment_create(
        order=order, carrier_code="ups", tracking_number="1Z999AA10123456784", notify_channel=False
    )
    label = label_render(shipment=shipment)
    slip = packing_slip_render(order=order)
    assert len(pages(label.file)) == 1 and "1Z999AA10123456784" in pages(label.file)[0]
    assert "N1" in pages(slip.file)[0]
    assert shipment.labels.count() == 1 and order.packing_slips.count() == 1
