"""The order page: IMEIs per line, Internal Notes, shipping with the IMEI gate, holds, documents, roles."""

import pytest
from django.urls import reverse

from orders.models import Order
from shipping.accounts.models import Role
from tests.factories import MembershipFactory, StoreFactory
from tests.orders.test_shipments import IMEI_A, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def bm_order(merchant, warehouse):
    return make_order(StoreFactory(merchant=merchant, kind="back_market"), ("IPH13", 1))


def post(client, order, **data):
    return client.post(reverse("order-detail", args=[order.pk]), data)


def test_ship_a_back_market_order_from_its_page(client_owner, bm_order):
    line = bm_order.lines.get()
    ship = {
        "action": "ship",
        "carrier_code": "royal_mail",
        "service_code": "",
        "tracking_number": "AB123456789GB",
        f"qty_{line.pk}": 1,
    }

    page = post(client_owner, bm_order, **ship).content.decode()
    assert "Line IPH13 needs an IMEI or serial number for each unit" in page

    page = post(
        client_owner, bm_order, action="identifier", line=line.pk, identifier="490154203237519"
    ).content.decode()
    assert "not a valid IMEI" in page
    assert post(client_owner, bm_order, action="identifier", line=line.pk, identifier=IMEI_A).status_code == 302
    line.refresh_from_db()
    assert line.imei == IMEI_A

    assert post(client_owner, bm_order, **ship).status_code == 302
    bm_order.refresh_from_db()
    assert bm_order.status == "shipped"
    label = client_owner.get(reverse("order-document", args=[bm_order.pk, "label"]))
    assert label["Content-Type"] == "application/pdf" and b"".join(label.streaming_content)[:5] == b"%PDF-"


def test_internal_notes_imeis_show_on_their_line(client_owner, bm_order):
    assert post(client_owner, bm_order, action="notes", internal_notes=f"imei {IMEI_A}").status_code == 302
    page = client_owner.get(reverse("order-detail", args=[bm_order.pk])).content.decode()
    assert f"{IMEI_A} <small>(from Internal Notes)</small>" in page


def test_hold_and_release(client_owner, bm_order):
    post(client_owner, bm_order, action="hold", reason="Address check")
    bm_order.refresh_from_db()
    assert (bm_order.status, bm_order.hold_reason) == ("on_hold", "Address check")
    post(client_owner, bm_order, action="release")
    bm_order.refresh_from_db()
    assert bm_order.status == "awaiting_shipment"


def test_warehouse_users_ship_and_print_but_do_not_edit_notes(client, merchant, bm_order):
    client.force_login(MembershipFactory(merchant=merchant, role=Role.WAREHOUSE).user)
    assert post(client, bm_order, action="notes", internal_notes="x").status_code == 403
    assert (
        post(client, bm_order, action="identifier", line=bm_order.lines.get().pk, identifier=IMEI_A).status_code == 403
    )
    slip = client.get(reverse("order-document", args=[bm_order.pk, "packing-slip"]))
    assert slip.status_code == 200
    Order.objects.filter(pk=bm_order.pk).update(internal_notes=f"IMEI {IMEI_A}")
    line = bm_order.lines.get()
    response = post(
        client, bm_order, action="ship", carrier_code="own_fleet", generate_tracking="on", **{f"qty_{line.pk}": 1}
    )
    assert response.status_code == 302
    bm_order.refresh_from_db()
    assert bm_order.status == "shipped"


def test_another_merchant_gets_404_on_the_order_and_its_documents(client, bm_order):
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("order-document", args=[bm_order.pk, "packing-slip"])).status_code == 404
    assert post(client, bm_order, action="hold").status_code == 404
    bm_order.refresh_from_db()
    assert bm_order.status == "awaiting_shipment"
