"""Void and re-ship, delivery, generated tracking numbers, and the customer emails."""

import pytest
from django.core import mail
from django.db import transaction

from orders.carriers import generate_tracking_number
from orders.models import Order, OutboxMessage
from orders.services.notifications import shipment_email_send
from orders.services.shipments import shipment_create, shipment_mark_delivered, shipment_void
from orders.tasks import send_shipment_email
from shipping.core.errors import ApplicationError
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


def ship(order, **kwargs):
    return shipment_create(
        order=order,
        carrier_code=kwargs.pop("carrier_code", "ups"),
        service_code=kwargs.pop("service_code", "ups_ground"),
        tracking_number=kwargs.pop("tracking_number", "1Z999AA10123456784"),
        **kwargs,
    )


@pytest.fixture
def email_tasks(monkeypatch):
    sent = []
    # The Celery app is shared: keep only the email task (outbox deliveries go through it too).
    monkeypatch.setattr(
        "orders.services.notifications.current_app.send_task",
        lambda name, args: sent.append((name, args)) if name.endswith("email") else None,
    )
    return sent


def test_confirmation_email_goes_to_the_customer_after_commit(store, django_capture_on_commit_callbacks, email_tasks):
    order = make_order(store, ("SKU-1", 2))
    Order.objects.filter(pk=order.pk).update(customer_email="zofia@example.com", customer_name="Zofia Wójcik")
    store.company_name = "Acme Refurb"
    store.save()

    with django_capture_on_commit_callbacks(execute=True):
        shipment = ship(order)
        assert email_tasks == []  # nothing leaves before the commit
    assert email_tasks == [("orders.tasks.send_shipment_email", [shipment.pk, "shipped"])]
    assert mail.outbox == []

    assert send_shipment_email.run(shipment.pk, "shipped") is True
    [message] = mail.outbox
    assert message.to == ["zofia@example.com"]
    assert message.subject == f"Your order {order.order_number} from Acme Refurb has shipped"
    assert "2 x SKU-1" in message.body and "1Z999AA10123456784" in message.body
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in message.body
    assert "Zofia Wójcik" in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and "Track your parcel" in html

    assert send_shipment_email.run(shipment.pk, "shipped") is False  # a redelivered task sends nothing
    assert len(mail.outbox) == 1


def test_no_email_when_the_store_switch_is_off(store, django_capture_on_commit_callbacks, email_tasks):
    store.notify_customer_on_shipment = False
    store.save()
    order = make_order(store, ("SKU-1", 1))
    Order.objects.filter(pk=order.pk).update(customer_email="zofia@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        shipment = ship(order)
    assert email_tasks == []
    assert shipment_email_send(shipment_id=shipment.pk, kind="shipped") is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_no_email_for_a_rolled_back_shipment(store, email_tasks):
    order = make_order(store, ("SKU-1", 1))
    Order.objects.filter(pk=order.pk).update(customer_email="zofia@example.com")

    with pytest.raises(RuntimeError), transaction.atomic():
        ship(order)
        raise RuntimeError("the request failed after the shipment was written")

    assert email_tasks == []
    assert not order.shipments.exists()
    order.refresh_from_db()
    assert order.status == "awaiting_shipment"


def test_delivery_email_only_when_switched_on(store):
    order = make_order(store, ("SKU-1", 1))
    Order.objects.filter(pk=order.pk).update(customer_email="zofia@example.com")
    shipment = ship(order, notify_customer=False)
    shipment_mark_delivered(shipment=shipment)
    assert shipment_email_send(shipment_id=shipment.pk, kind="delivered") is False
    store.notify_customer_on_delivery = True
    store.save()
    assert shipment_email_send(shipment_id=shipment.pk, kind="delivered") is True
    assert "has been delivered" in mail.outbox[0].body


def test_void_reopens_the_order_and_reshipping_notifies_the_channel_again(store):
    order = make_order(store, ("SKU-1", 1))
    first = ship(order, notify_customer=False)
    order.refresh_from_db()
    assert order.status == "shipped"

    shipment_void(shipment=first)

    order.refresh_from_db()
    assert order.status == "awaiting_shipment"
    with pytest.raises(ApplicationError, match="already void"):
        shipment_void(shipment=first)
    second = ship(order, tracking_number="1Z999AA10123456785", notify_customer=False)
    order.refresh_from_db()
    assert order.status == "shipped"
    notices = OutboxMessage.objects.filter(kind="notify_shipment").order_by("id")
    assert [m.shipment_id for m in notices] == [first.pk, second.pk]


def test_own_fleet_shipments_get_a_generated_tracking_number_and_others_do_not(store):
    order = make_order(store, ("SKU-1", 1))
    with pytest.raises(ApplicationError, match="come from UPS"):
        shipment_create(order=order, carrier_code="ups", generate_tracking=True)
    shipment = shipment_create(order=order, carrier_code="own_fleet", generate_tracking=True, notify_customer=False)
    assert shipment.tracking_number == generate_tracking_number(prefix="SH", sequence=shipment.pk)
    assert len(shipment.tracking_number) == 15 and shipment.tracking_number.startswith("SH")


def test_unknown_carrier_or_service_is_a_field_error(store):
    order = make_order(store, ("SKU-1", 1))
    with pytest.raises(ApplicationError) as info:
        shipment_create(order=order, carrier_code="pigeon")
    assert "carrier_code" in info.value.field_errors
    with pytest.raises(ApplicationError) as info:
        shipment_create(order=order, carrier_code="ups", service_code="usps_priority_mail")
    assert "service_code" in info.value.field_errors


def test_package_weight_and_dimensions_are_recorded(store):
    from decimal import Decimal

    order = make_order(store, ("SKU-1", 1))
    shipment = ship(
        order,
        package_code="package",
        weight_grams=Decimal("850"),
        dimensions=(Decimal("30"), Decimal("20"), Decimal("10")),
        dimension_units="centimeters",
        carrier_fee=Decimal("7.40"),
        note_to_buyer="Thanks!",
        notify_customer=False,
    )
    shipment.refresh_from_db()
    assert (shipment.package_code, shipment.weight_grams, shipment.length, shipment.dimension_units) == (
        "package",
        Decimal("850"),
        Decimal("30"),
        "centimeters",
    )
    assert (shipment.carrier_fee, shipment.note_to_buyer) == (Decimal("7.40"), "Thanks!")
    with pytest.raises(ApplicationError, match="units"):
        ship(make_order(store, ("SKU-2", 1), external_id="2"), dimensions=(Decimal(1), Decimal(1), Decimal(1)))
