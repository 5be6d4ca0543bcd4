"""Packing slips: Django template -> WeasyPrint -> PDF, one or many slips per document.

WeasyPrint costs 15-50 ms per page and keeps the whole document in memory, so batches call this
in chunks (about 50 slips) and join the parts with ``merge.merge_pdfs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML

from .data import PackingSlipData
from .fetch import LOCAL_BASE_URL, SafeURLFetcher

TEMPLATE = "documents/packing_slip.html"
STYLESHEET = Path(settings.BASE_DIR) / "static" / "documents" / "packing_slip.css"


@dataclass(frozen=True)
class _SlipView:
    """What the template needs beyond the data, worked out in Python rather than in template tags."""

    data: PackingSlipData
    paper_class: str
    ship_to_lines: tuple[str, ...]
    bill_to_lines: tuple[str, ...]
    bill_to_same: bool
    show_prices: bool
    total_quantity: int


def render_packing_slips(slips: Sequence[PackingSlipData], *, base_url: str | None = None) -> bytes:
    """One PDF; each slip starts on a new page, on its own paper size (A4 or Letter).

    ``base_url`` resolves relative URLs (such as a logo's ``/media/...``); media and static files
    under it are read from storage, everything else goes through ``fetch.safe_url_fetcher``.
    """
    if not slips:
        raise ValueError("no packing slips to render")
    html = render_to_string(TEMPLATE, {"slips": [_view(slip) for slip in slips]})
    fetcher = SafeURLFetcher(base_url=base_url)
    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher)
    document = HTML(string=html, base_url=base_url or LOCAL_BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet])


def _view(slip: PackingSlipData) -> _SlipView:
    bill_to = slip.bill_to.lines(with_phone=True) if slip.bill_to else ()
    ship_to = slip.ship_to.lines(with_phone=True)
    return _SlipView(
        data=slip,
        paper_class=slip.paper.lower(),
        ship_to_lines=ship_to,
        bill_to_lines=bill_to,
        bill_to_same=bill_to == ship_to,  # printed as "same as ship-to" rather than twice
        # A gift's slip travels to the recipient: no prices on it.
        show_prices=not slip.gift and any(item.unit_price is not None for item in slip.items),
        total_quantity=sum(item.quantity for item in slip.items),
    )
