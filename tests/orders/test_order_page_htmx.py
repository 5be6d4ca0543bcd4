"""The order page's partial updates: IMEI feedback as it is typed, a line saved in place, emails resent."""

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client

from orders.models import PrintBatch
from orders.services.shipments import shipment_create
from tests.factories import MembershipFactory, StoreFactory
from tests.orders.test_shipments import IMEI_A, make_order

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bm_order(merchant):
    return make_order(StoreFactory(merchant=merchant, kind="back_market"), ("IPH13", 1), ("MBA-M1", 1))


@pytest.mark.parametrize(
    ("typed", "level", "says"),
    [
        ("35693803564", "info", "11 of 15 digits."),
        ("356938035643808", "error", "is not a valid IMEI (the check digit does not match)."),
        ("356938035643809", "ok", "Valid IMEI."),
        ("35693803564380912", "warning", "17 digits: an IMEI has 15"),
        ("C02XK1JHJG5J", "info", "Serial number."),
    ],
)
def test_identifier_feedback_while_typing(client_owner, typed, level, says):
    response = client_owner.get("/orders/identifier-check/", {"identifier": typed, "line": "7"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="identifier-7-feedback"' in page and f'class="feedback {level}"' in page and says in page
    assert "<html" not in page  # a fragment, not the page


def test_saving_an_imei_with_htmx_returns_just_the_row(client_owner, bm_order):
    line = bm_order.lines.get(sku="IPH13")
    url = f"/orders/{bm_order.pk}/"
    response = client_owner.post(url, {"action": "identifier", "line": line.pk, "identifier": IMEI_A}, **HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith(f'<tr id="line-{line.pk}"') and "Saved." in page and IMEI_A in page
    line.refresh_from_db()
    assert line.imei == IMEI_A
    bad = client_owner.post(url, {"action": "identifier", "line": line.pk, "identifier": "356938035643808"}, **HTMX)
    assert 'class="feedback error"' in bad.content.decode() and 'role="alert"' in bad.content.decode()
    line.refresh_from_db()
    assert line.imei == IMEI_A  # the typo did not replace it


def test_warehouse_worker_cannot_change_an_imei(client, merchant, bm_order):
    line = bm_order.lines.get(sku="IPH13")
    client.force_login(MembershipFactory(merchant=merchant, role="warehouse").user)
    response = client.post(f"/orders/{bm_order.pk}/", {"action": "identifier", "line": line.pk, "identifier": IMEI_A})
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.imei == ""


def test_the_shipment_email_can_be_sent_again(client_owner, merchant, django_capture_on_commit_callbacks, monkeypatch):
    from celery import current_app

    import orders.tasks  # noqa: F401  (registers the task by name)

    # The broker is the edge here: run the task the service sends, by name, in this process.
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args=(), kwargs=None: current_app.tasks[name].apply(args, kwargs)
    )
    store = StoreFactory(merchant=merchant, kind="manual")
    order = make_order(store, ("CASE", 1))
    order.customer_email = "buyer@example.com"
    order.save()
    with django_capture_on_commit_callbacks(execute=False):
        shipment = shipment_create(order=order, carrier_code="other", generate_tracking=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_owner.post(f"/orders/{order.pk}/", {"action": "resend_email", "shipment": shipment.pk})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]
    shipment.refresh_from_db()
    assert shipment.customer_notified_at is not None


def test_a_shipment_of_another_order_is_404(client_owner, merchant):
    store = StoreFactory(merchant=merchant, kind="manual")
    mine, other = make_order(store, ("A", 1), external_id="1"), make_order(store, ("B", 1), external_id="2")
    shipment = shipment_create(order=other, carrier_code="other", generate_tracking=True)
    response = client_owner.post(f"/orders/{mine.pk}/", {"action": "resend_email", "shipment": shipment.pk})
    assert response.status_code == 404


def test_batch_progress_poll_opens_the_pdf_when_ready(client_owner, merchant, owner):
    batch = PrintBatch.objects.create(merchant=merchant, kind="labels", total=3, done=1, status="rendering")
    poll = client_owner.get(f"/batches/{batch.pk}/", **HTMX)
    assert "1 of 3 rendered" in poll.content.decode() and "HX-Redirect" not in poll
    assert 'hx-trigger="every 1s"' in poll.content.decode()
    batch.file.save("b.pdf", ContentFile(b"%PDF-1.4"))
    batch.status, batch.done = "done", 3
    batch.save()
    poll = client_owner.get(f"/batches/{batch.pk}/", **HTMX)
    assert poll["HX-Redirect"] == f"/batches/{batch.pk}/?download=1"
    assert "every 1s" not in poll.content.decode()
    other = Client()
    other.force_login(MembershipFactory().user)
    assert other.get(f"/batches/{batch.pk}/", **HTMX).status_code == 404
