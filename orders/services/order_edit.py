"""What staff change on an order: Internal Notes and the IMEI or serial number of each line."""

from __future__ import annotations

from django.db import transaction

from shipping.core.errors import ApplicationError
from shipping.core.identifiers import classify, compact

from ..models import Order, OrderLine
from .identifiers import identifier_error


@transaction.atomic
def order_update_internal_notes(*, order: Order, notes: str) -> Order:
    Order.objects.filter(pk=order.pk).update(internal_notes=notes[:10000])
    order.refresh_from_db(fields=["internal_notes", "updated_at"])
    return order


@transaction.atomic
def order_line_set_identifier(*, line: OrderLine, value: str) -> OrderLine:
    """An IMEI (15 digits with a valid check digit) or, for anything else, a serial number; empty clears."""
    line = OrderLine.objects.select_for_update().get(pk=line.pk)
    value = (value or "").strip()
    if not value:
        line.imei, line.serial_number = "", ""
    else:
        if error := identifier_error(value):
            raise ApplicationError(error, field_errors={"identifier": [error]})
        kind, normalised = classify(value)
        if kind == "imei":
            line.imei, line.serial_number = normalised, ""
        else:
            if len(compact(value)) > 100:
                raise ApplicationError("A serial number has at most 100 characters.")
            line.imei, line.serial_number = "", normalised
    line.save(update_fields=["imei", "serial_number"])
    return line
