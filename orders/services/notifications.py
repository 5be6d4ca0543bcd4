"""Customer emails: shipment confirmation and delivery, when the store's switches say so.

Scheduled after commit (a rolled-back shipment sends nothing) and sent by a task that records
that it sent, so a redelivered task does not email twice.
"""

from __future__ import annotations

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from shipping.core.errors import ApplicationError

from .. import carriers
from ..models import Shipment

SEND_TASK = "orders.tasks.send_shipment_email"


def _wanted(shipment: Shipment, kind: str, *, forced: bool = False) -> bool:
    store = shipment.order.store
    if not shipment.order.customer_email:
        return False
    if forced:  # a person pressed "send": the store's automatic switches do not apply
        return True
    if kind == "shipped":
        return shipment.notify_customer and store.notify_customer_on_shipment
    return store.notify_customer_on_delivery


def shipment_email_schedule(*, shipment: Shipment, kind: str) -> bool:
    if not _wanted(shipment, kind):
        return False
    shipment_id = shipment.pk
    transaction.on_commit(lambda: current_app.send_task(SEND_TASK, args=[shipment_id, kind]))
    return True


def shipment_email_resend(*, shipment: Shipment) -> None:
    """Send the shipment email (again) because a person asked for it, e.g. after a bounce or a typo fix."""
    if shipment.voided_at is not None:
        raise ApplicationError("This shipment was voided; there is nothing to tell the customer.")
    if not shipment.order.customer_email:
        raise ApplicationError("The order has no customer email address.")
    Shipment.objects.filter(pk=shipment.pk).update(customer_notified_at=None)
    shipment_id = shipment.pk
    transaction.on_commit(
        lambda: current_app.send_task(SEND_TASK, args=[shipment_id, "shipped"], kwargs={"forced": True})
    )


def shipment_email_send(*, shipment_id: int, kind: str, forced: bool = False) -> bool:
    """Send one email; returns False when it was already sent (or is no longer wanted)."""
    marker = "customer_notified_at" if kind == "shipped" else "delivery_notified_at"
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("order", "order__store", "order__merchant")
            .get(pk=shipment_id)
        )
        already = getattr(shipment, marker) is not None
        if already or shipment.voided_at is not None or not _wanted(shipment, kind, forced=forced):
            return False
        message = shipment_email_message(shipment=shipment, kind=kind)
        message.send()
        # Recorded in the same transaction: if the send raised, nothing is recorded and the task retries.
        setattr(shipment, marker, timezone.now())
        shipment.save(update_fields=[marker])
    return True


def shipment_email_message(*, shipment: Shipment, kind: str) -> EmailMultiAlternatives:
    order, store = shipment.order, shipment.order.store
    found = carriers.carrier(shipment.carrier_code)
    service = found.service(shipment.service_code) if found else None
    context = {
        "order": order,
        "store": store,
        "company": store.company_name or store.name,
        "shipment": shipment,
        "lines": [sl for sl in shipment.lines.select_related("order_line")],
        "carrier_name": found.name if found else shipment.carrier_code,
        "service_name": service.name if service else "",
        "tracking_url": carriers.tracking_url(shipment.carrier_code, shipment.tracking_number),
        "logo_url": store.logo.url if store.logo else "",
    }
    template = "shipment_confirmation" if kind == "shipped" else "shipment_delivered"
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer_email],
        headers={"X-Order-Number": order.order_number},
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message
