"""4x6 inch shipping labels drawn with the ReportLab canvas, one page per label.

Geometry is in points (1/72 in). Thermal label printers are mostly 203 dpi, so the barcode's bar
width and its left edge are whole printer dots: fractional dots print as uneven bars that scanners
misread. Print at "actual size".
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from . import fonts
from .data import AddressBlock, LabelData

PAGE_SIZE = (4 * inch, 6 * inch)  # exactly 288 x 432 pt
WIDTH, HEIGHT = PAGE_SIZE
MARGIN = 12.0
CONTENT_WIDTH = WIDTH - 2 * MARGIN

DOT = inch / 203  # one dot of a 203 dpi printer
BAR_DOTS = (3, 2)  # preferred X-dimensions: 0.375 mm, then 0.25 mm (the 7.5 mil minimum is 1.5 dots)
BAR_HEIGHT = 1.0 * inch
QUIET_MODULES = 10  # Code 128 needs at least 10 X-dimensions of white on each side

# Vertical bands, top down (baseline or edge positions in points from the bottom).
FROM_TOP = HEIGHT - MARGIN
FROM_BOTTOM = HEIGHT - 92
TO_BOTTOM = 192
CARRIER_BOTTOM = 156
BARCODE_BOTTOM = 44


def render_labels(labels: Sequence[LabelData]) -> bytes:
    """One PDF with one 4x6 in page per label, in the order given."""
    if not labels:
        raise ValueError("no labels to render")
    fonts.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_SIZE, pageCompression=1)
    canvas.setTitle("Shipping labels" if len(labels) > 1 else f"Label {labels[0].tracking_number}")
    for label in labels:
        _draw_label(canvas, label)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_label(canvas: Canvas, label: LabelData) -> None:
    canvas.setLineWidth(1.5)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    international = bool(label.ship_to.country and label.ship_to.country != label.ship_from.country)

    # Ship-from (small, left) with the ship date and weight on the right.
    right_x = WIDTH - MARGIN - 78
    _caption(canvas, MARGIN, FROM_TOP - 6, "FROM")
    _address(
        canvas,
        label.ship_from,
        x=MARGIN,
        top=FROM_TOP - 9,
        bottom=FROM_BOTTOM + 4,
        width=right_x - MARGIN - 6,
        size=8,
        name_size=8.5,
        with_country=international,
    )
    _field(canvas, right_x, FROM_TOP - 6, "SHIP DATE", label.ship_date.isoformat(), width=78)
    _field(canvas, right_x, FROM_TOP - 34, "WEIGHT", label.weight_text, width=78)
    _rule(canvas, FROM_BOTTOM, 2)

    # Ship-to, as large as it fits.
    _caption(canvas, MARGIN, FROM_BOTTOM - 10, "SHIP TO")
    _address(
        canvas,
        label.ship_to,
        x=MARGIN + 8,
        top=FROM_BOTTOM - 13,
        bottom=TO_BOTTOM + 4,
        width=CONTENT_WIDTH - 8,
        size=12,
        name_size=14,
        with_country=international,
        with_phone=True,
    )
    _rule(canvas, TO_BOTTOM, 2)

    # Carrier and service.
    _line(canvas, MARGIN, TO_BOTTOM - 16, label.carrier_name.upper(), 14, bold=True)
    _line(canvas, MARGIN, TO_BOTTOM - 30, label.service_name, 10)
    _rule(canvas, CARRIER_BOTTOM, 1)

    # Tracking number.
    _caption(canvas, MARGIN, CARRIER_BOTTOM - 9, "TRACKING #")
    if label.tracking_number:
        _barcode(canvas, label.tracking_number, top=CARRIER_BOTTOM - 14)
    _rule(canvas, BARCODE_BOTTOM, 1)

    # Order number and reference.
    _field(canvas, MARGIN, BARCODE_BOTTOM - 9, "ORDER", label.order_number, width=CONTENT_WIDTH / 2 - 4)
    if label.reference:
        _field(canvas, WIDTH / 2, BARCODE_BOTTOM - 9, "REF", label.reference, width=CONTENT_WIDTH / 2)


def tracking_barcode(value: str) -> Code128:
    """Code 128 of ``value`` with the widest whole-dot bars that fit the label (quiet zones included)."""
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"tracking number {value!r} cannot be encoded in Code 128")
    for dots in BAR_DOTS:
        symbol = _code128(value, dots * DOT)
        if symbol.width <= CONTENT_WIDTH:
            return symbol
    # Longer than any real tracking number: squeeze it in rather than cut it (uneven bars still scan).
    narrowest = BAR_DOTS[-1] * DOT
    return _code128(value, narrowest * CONTENT_WIDTH / _code128(value, narrowest).width)


def _barcode(canvas: Canvas, value: str, *, top: float) -> None:
    symbol = tracking_barcode(value)
    x = round((WIDTH - symbol.width) / 2 / DOT) * DOT  # left edge on the printer's dot grid
    bottom = top - BAR_HEIGHT
    symbol.drawOn(canvas, x, bottom)
    text, size = fonts.fit_text(value, CONTENT_WIDTH, 11, minimum=7)
    fonts.draw_text(canvas, (WIDTH - fonts.text_width(text, size)) / 2, bottom - 12, text, size)


def _code128(value: str, bar_width: float) -> Code128:
    quiet = QUIET_MODULES * bar_width
    return Code128(
        value, barWidth=bar_width, barHeight=BAR_HEIGHT, quiet=1, lquiet=quiet, rquiet=quiet, humanReadable=0
    )


def _address(
    canvas: Canvas,
    address: AddressBlock,
    *,
    x: float,
    top: float,
    bottom: float,
    width: float,
    size: float,
    name_size: float,
    with_country: bool,
    with_phone: bool = False,
) -> None:
    """The address's lines from ``top`` down, the first (name) larger and bold, shrunk to fit the box."""
    lines = address.lines(with_country=with_country, with_phone=with_phone)
    if not lines:
        return
    leading = 1.18
    needed = (name_size + size * (len(lines) - 1)) * leading
    scale = min(1.0, (top - bottom) / needed)
    y = top
    for index, line in enumerate(lines):
        line_size = (name_size if index == 0 else size) * scale
        y -= line_size * leading
        text, fitted = fonts.fit_text(line, width, line_size, minimum=min(6.0, line_size), bold=index == 0)
        fonts.draw_text(canvas, x, y + line_size * 0.22, text, fitted, bold=index == 0)


def _field(canvas: Canvas, x: float, y: float, caption: str, value: str, *, width: float) -> None:
    _caption(canvas, x, y, caption)
    text, size = fonts.fit_text(value, width, 10, minimum=6, bold=True)
    fonts.draw_text(canvas, x, y - 12, text, size, bold=True)


def _line(canvas: Canvas, x: float, y: float, value: str, size: float, *, bold: bool = False) -> None:
    text, fitted = fonts.fit_text(value, CONTENT_WIDTH, size, minimum=6, bold=bold)
    fonts.draw_text(canvas, x, y, text, fitted, bold=bold)


def _caption(canvas: Canvas, x: float, y: float, text: str) -> None:
    fonts.draw_text(canvas, x, y, text, 6.5, bold=True)


def _rule(canvas: Canvas, y: float, width: float) -> None:
    canvas.setLineWidth(width)
    canvas.line(MARGIN / 2, y, WIDTH - MARGIN / 2, y)
