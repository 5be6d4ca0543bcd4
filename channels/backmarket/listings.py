"""Back Market listings, pure mapping: listing JSON -> RemoteListing, updates -> bodies, drafts -> CSV,
task results -> ListingTaskState, Backbox items -> Competitor (reference §5-6). No HTTP, no ORM."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ..base import ChannelDataError, Competitor, ListingDraft, ListingTaskState, ListingUpdate, RemoteListing

MAX_CSV_ROWS = 15_000  # lines per bulk file (reference §5.5)
CSV_COLUMNS = ("sku", "product_id", "backmarket_id", "quantity", "warranty_delay", "price", "currency", "grade")
TASK_SUCCESS, TASK_FAILED = 9, 8  # action_status; 0 and 2 are todo and in progress, 3 and 7 unexplained
CENT = Decimal("0.01")


def decimal_or_none(value: Any) -> Decimal | None:
    """Amounts come as strings ("612.00") or, live, as numbers; None, "" and junk give None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def money(value: Decimal) -> str:
    """Numbers are sent as strings, with two decimals (reference §5.4)."""
    return str(value.quantize(CENT))


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def map_listing(raw: Any) -> RemoteListing:
    if not isinstance(raw, Mapping):
        raise ChannelDataError("A listing is not a JSON object.")
    listing_ref = str(raw.get("id") or "").strip()
    sku = str(raw.get("sku") or "").strip()
    quantity = _int(raw.get("quantity"))
    if not listing_ref:
        raise ChannelDataError(f"Listing {sku or '?'} has no id (UUID).")
    if not sku:
        raise ChannelDataError(f"Listing {listing_ref} has no SKU.")
    if quantity is None:
        raise ChannelDataError(f"Listing {sku} has no quantity.")
    return RemoteListing(
        listing_ref=listing_ref,
        sku=sku,
        quantity=quantity,
        price=decimal_or_none(raw.get("price")),
        currency=str(raw.get("currency") or ""),
        legacy_id=_int(raw.get("listing_id")),
        product_ref=str(raw.get("product_id") or raw.get("backmarket_id") or ""),
        title=str(raw.get("title") or "")[:500],
        max_price=decimal_or_none(raw.get("max_price")),
        min_price=decimal_or_none(raw.get("min_price")),
        publication_state=_int(raw.get("publication_state")),
        grade=str(raw.get("grade") or ""),
        raw=raw,
    )


def update_body(update: ListingUpdate) -> dict[str, Any]:
    """Only the fields that change; a price always carries its currency (required outside EUR/USD)."""
    body: dict[str, Any] = {}
    if update.quantity is not None:
        body["quantity"] = max(0, int(update.quantity))
    if update.price is not None:
        body["price"] = money(update.price)
        if update.currency:
            body["currency"] = update.currency
    return body


def drafts_csv(drafts: Sequence[ListingDraft]) -> str:
    """The bulk creation file: a product UUID goes in product_id, the number from a product URL in
    backmarket_id (the older client's column, reference §5.5)."""
    if len(drafts) > MAX_CSV_ROWS:
        raise ValueError(f"At most {MAX_CSV_ROWS} rows per file.")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for draft in drafts:
        numeric = draft.product_ref.isdigit()
        writer.writerow(
            (
                draft.sku,
                "" if numeric else draft.product_ref,
                draft.product_ref if numeric else "",
                max(0, draft.quantity),
                draft.warranty_months,
                money(draft.price),
                draft.currency,
                draft.grade,
            )
        )
    return out.getvalue()


def task_id_of(answer: Any) -> str:
    task_id = answer.get("bodymessage") if isinstance(answer, Mapping) else None
    if task_id in (None, "") or isinstance(task_id, bool):
        raise ChannelDataError(f"Back Market's answer to the listing file has no task id: {answer!r:.300}")
    return str(task_id)


def _rows(value: Any) -> list[tuple[str, Any]]:
    """product_success / product_errors: objects keyed per row (or, defensively, lists of rows)."""
    if isinstance(value, Mapping):
        return [(str(key), row) for key, row in value.items()]
    if isinstance(value, list):
        return [(str(row.get("sku") or "") if isinstance(row, Mapping) else "", row) for row in value]
    return []


def _row_error(row: Any) -> str:
    if isinstance(row, str):
        return row
    if isinstance(row, Mapping):
        for key in ("error", "message", "errors", "detail"):
            if row.get(key):
                value = row[key]
                return value if isinstance(value, str) else "; ".join(str(v) for v in value)
    return str(row)


def map_task(task_ref: str, raw: Any) -> ListingTaskState:
    if not isinstance(raw, Mapping):
        raise ChannelDataError(f"Task {task_ref}: the answer is not a JSON object.")
    status = _int(raw.get("action_status"))
    if status == TASK_FAILED:
        return ListingTaskState(
            task_ref, finished=True, failed=True, error=str(raw.get("last_action_error") or "failed"), raw=raw
        )
    if status != TASK_SUCCESS:
        return ListingTaskState(task_ref, finished=False, raw=raw)
    result = raw.get("result") if isinstance(raw.get("result"), Mapping) else {}
    created, errors = [], []
    for key, row in _rows(result.get("product_success")):
        sku = str(row.get("sku") or key) if isinstance(row, Mapping) else key
        listing_ref = str(row.get("id") or "") if isinstance(row, Mapping) else ""
        legacy = _int(row.get("listing_id")) if isinstance(row, Mapping) else None
        created.append(
            RemoteListing(
                listing_ref=listing_ref or (str(legacy) if legacy else ""),
                sku=sku,
                quantity=_int(row.get("quantity")) or 0 if isinstance(row, Mapping) else 0,
                legacy_id=legacy,
                publication_state=_int(row.get("publication_state")) if isinstance(row, Mapping) else None,
                product_ref=str(row.get("product_id") or row.get("backmarket_id") or "")
                if isinstance(row, Mapping)
                else "",
                raw=row if isinstance(row, Mapping) else {},
            )
        )
    for key, row in _rows(result.get("product_errors")):
        sku = str(row.get("sku") or key) if isinstance(row, Mapping) else key
        errors.append((sku, _row_error(row)))
    return ListingTaskState(task_ref, finished=True, created=tuple(created), row_errors=tuple(errors), raw=raw)


def _amount(value: Any) -> tuple[Decimal | None, str]:
    if isinstance(value, Mapping):
        return decimal_or_none(value.get("amount")), str(value.get("currency") or "")
    return decimal_or_none(value), ""


def map_competitors(raw: Any) -> list[Competitor]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ChannelDataError("Back Market's Backbox answer is not a list.")
    result = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        price_to_win, currency = _amount(item.get("price_to_win"))
        price, price_currency = _amount(item.get("price"))
        result.append(
            Competitor(
                market=str(item.get("market") or ""),
                is_winning=bool(item.get("is_winning")),
                price_to_win=price_to_win,
                currency=currency or price_currency,
                price=price,
                winner_price=_amount(item.get("winner_price"))[0],
                min_price=_amount(item.get("min_price"))[0],
            )
        )
    return result
