"""Which IMEI or serial number goes with which unit.

Staff type them per line, or (as ShipStation users do for Back Market) into Internal Notes; IMEIs
found in the notes go, in order, to the lines that have none of their own yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipping.core.identifiers import compact, imeis_in_text, is_valid_imei, normalise_serial

from ..models import Order, OrderLine


@dataclass(frozen=True, slots=True)
class LineIdentifiers:
    line: OrderLine
    values: tuple[str, ...]  # one per unit, as far as known
    source: str  # "line", "internal notes" or ""


def identifier_error(value: str) -> str | None:
    """A 15-digit number must be a valid IMEI: a typo there would be written to the marketplace for good."""
    digits = compact(value)
    if len(digits) == 15 and digits.isdigit() and not is_valid_imei(digits):
        return f"{value} is not a valid IMEI (the check digit does not match)."
    if not normalise_serial(value):
        return "An empty serial number."
    return None


def identifier_feedback(value: str) -> tuple[str, str]:
    """(level, message) shown beside an IMEI / serial field while it is typed: the rules the save applies."""
    value = (value or "").strip()
    if not value:
        return "", ""
    digits = compact(value)
    if error := identifier_error(value):
        return "error", error
    if is_valid_imei(digits):
        return "ok", "Valid IMEI."
    if digits.isdigit() and len(digits) < 15:
        return "info", f"{len(digits)} of 15 digits."
    if digits.isdigit():
        return "warning", f"{len(digits)} digits: an IMEI has 15, so this will be saved as a serial number."
    return "info", "Serial number."


def _own(line: OrderLine) -> tuple[str, ...]:
    return tuple(v for v in (line.imei, line.serial_number) if v)[:1]


def order_line_identifiers(*, order: Order, lines: Iterable[OrderLine] | None = None) -> list[LineIdentifiers]:
    """Per live line: its own identifier, else IMEIs from Internal Notes handed out in line order."""
    lines = [
        line
        for line in (lines if lines is not None else order.lines.all())
        if line.removed_at is None and not line.is_adjustment
    ]
    used = {v for line in lines for v in _own(line)}
    from_notes = [imei for imei in imeis_in_text(order.internal_notes) if imei not in used]
    out = []
    for line in lines:
        own = _own(line)
        if own:
            out.append(LineIdentifiers(line, own, "line"))
            continue
        take, from_notes = from_notes[: line.quantity], from_notes[line.quantity :]
        out.append(LineIdentifiers(line, tuple(take), "internal notes" if take else ""))
    return out
