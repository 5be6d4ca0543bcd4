"""Marking orders shipped: partial shipments, the IMEI gate, Internal Notes, the outbox; cancelling."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from channels.base import Address, ExternalOrder, ExternalOrderLine
from orders.models import Order, OutboxMessage
from orders.services.cancel import order_cancel
from orders.services.identifiers import order_line_identifiers
from orders.services.order_import import ImportItem, orders_upsert_from_channel
from orders.services.shipments import shipment_create
from shipping.core.errors import ApplicationError
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

IMEI_A, IMEI_B, IMEI_C = "490154203237518", "356938035643809", "353918052637127"


def make_order(store, *lines, external_id="1") -> Order:
    ext = ExternalOrder(
        external_id=external_id,
        order_number=f"N{external_id}",
        external_status="1",
        order_date=datetime(2026, 3, 1, tzinfo=UTC),
        updated_at=datetime(2026, 3, 1, tzinfo=UTC),
        ship_to=Address(name="A", street1="1 Rue", city="Paris", country="FR"),
        lines=tuple(
            ExternalOrderLine(external_line_id=str(i), sku=sku, name=sku, quantity=qty, unit_price=Decimal("100"))
            for i, (sku, qty) in enumerate(lines, 1)
        ),
    )
    with transaction.atomic():  # as the import does: one transaction per page
        [result] = orders_upsert_from_channel(store=store, items=[ImportItem(ext, "awaiting_shipment")])
    return Order.objects.get(pk=result.order_id)


@pytest.fixture
def bm_store(merchant):
    return StoreFactory(merchant=merchant, kind="back_market")


def test_back_market_order_without_imei_cannot_be_marked_shipped(bm_store):
    order = make_order(bm_store, ("IPH13", 1), ("MBA-M1", 1))
    with pytest.raises(ApplicationError) as info:
        shipment_create(order=order, carrier_code="royal_mail", tracking_number="AB1")
    assert info.value.code == "serials_missing"
    assert any("Line IPH13 needs an IMEI or serial number" in p for p in info.value.field_errors["serials"])
    assert any("Line MBA-M1" in p for p in info.value.field_errors["serials"])
    order.refresh_from_db()
    assert order.status == "awaiting_shipment" and not order.shipments.exists()
    assert not OutboxMessage.objects.filter(kind="notify_shipment").exists()


def test_imeis_typed_into_internal_notes_go_to_the_lines_in_order(bm_store):
    order = make_order(bm_store, ("IPH13", 1), ("IPH12", 2))
    Order.objects.filter(pk=order.pk).update(internal_notes=f"IMEIs: {IMEI_A}\n{IMEI_B}, {IMEI_C} checked by Ana")
    order.refresh_from_db()

    assigned = {item.line.sku: (item.values, item.source) for item in order_line_identifiers(order=order)}
    assert assigned == {"IPH13": ((IMEI_A,), "internal notes"), "IPH12": ((IMEI_B, IMEI_C), "internal notes")}

    shipment = shipment_create(order=order, carrier_code="royal_mail", tracking_number="AB 123 GB")

    order.refresh_from_db()
    assert order.status == "shipped"
    assert {sl.order_line.sku: sl.serials for sl in shipment.lines.all()} == {
        "IPH13": [IMEI_A],
        "IPH12": [IMEI_B, IMEI_C],
    }
    assert order.lines.get(sku="IPH13").imei == IMEI_A  # remembered on the line
    message = OutboxMessage.objects.get(kind="notify_shipment")
    assert message.shipment_id == shipment.pk and message.payload == {"external_line_ids": ["1", "2"]}


def test_a_mistyped_imei_is_refused_before_it_reaches_the_marketplace(bm_store):
    order = make_order(bm_store, ("IPH13", 1))
    line = order.lines.get()
    with pytest.raises(ApplicationError) as info:
        shipment_create(order=order, carrier_code="ups", serials={line.pk: ["490154203237517"]})
    assert "not a valid IMEI" in info.value.field_errors["serials"][0]


def test_partial_shipment_keeps_the_order_open_until_every_unit_ships(bm_store):
    order = make_order(bm_store, ("IPH13", 1), ("MBA-M1", 1))
    first, second = order.lines.all()
    shipment_create(order=order, carrier_code="dhl", quantities={first.pk: 1}, serials={first.pk: [IMEI_A]})
    order.refresh_from_db()
    assert order.status == "awaiting_shipment"
    with pytest.raises(ApplicationError, match="Nothing was shipped"):
        shipment_create(order=order, carrier_code="dhl", quantities={first.pk: 1}, serials={first.pk: [IMEI_B]})
    shipment_create(order=order, carrier_code="dhl", serials={second.pk: ["C02XK1ABJGH5"]})
    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.lines.get(pk=second.pk).serial_number == "C02XK1ABJGH5"
    assert OutboxMessage.objects.filter(kind="notify_shipment").count() == 2


def test_channels_without_the_rule_ship_without_serials(store):
    order = make_order(store, ("SKU", 1))
    shipment_create(order=order, carrier_code="usps", tracking_number="9400")
    order.refresh_from_db()
    assert order.status == "shipped"


def test_manual_store_ships_without_telling_anyone(merchant):
    order = make_order(StoreFactory(merchant=merchant, kind="manual"), ("SKU", 1))
    shipment_create(order=order, carrier_code="usps")
    assert not OutboxMessage.objects.exists()


def test_awaiting_payment_orders_cannot_ship(store):
    order = make_order(store, ("SKU", 1))
    Order.objects.filter(pk=order.pk).update(status="awaiting_payment")
    with pytest.raises(ApplicationError, match="Awaiting Payment and cannot be shipped"):
        shipment_create(order=order, carrier_code="usps")


def test_cancel_a_line_or_the_order_and_never_a_shipped_line(bm_store):
    order = make_order(bm_store, ("IPH13", 1), ("IPH12", 1))
    first, second = order.lines.all()

    order_cancel(order=order, line_ids=[second.pk], reason="out_of_stock")
    order.refresh_from_db()
    assert order.status == "awaiting_shipment"
    assert OutboxMessage.objects.get(kind="cancel").payload == {"external_line_ids": ["2"], "reason": "out_of_stock"}

    shipment_create(order=order, carrier_code="dhl", serials={first.pk: [IMEI_A]})
    order.refresh_from_db()
    assert order.status == "shipped"  # the cancelled line does not hold it open
    with pytest.raises(ApplicationError, match="cannot be cancelled"):
        order_cancel(order=order)


def test_cancel_refuses_a_line_that_has_shipped(bm_store):
    order = make_order(bm_store, ("IPH13", 1), ("IPH12", 1))
    first, _ = order.lines.all()
    shipment_create(order=order, carrier_code="dhl", quantities={first.pk: 1}, serials={first.pk: [IMEI_A]})
    with pytest.raises(ApplicationError, match="IPH13 has already shipped"):
        order_cancel(order=order)
    order_cancel(order=order, line_ids=[order.lines.get(sku="IPH12").pk])
