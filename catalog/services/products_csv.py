"""Products CSV: upsert by SKU, and export in the same format.

Columns are ours (``sku, name, image_url, weight_grams, cost, warehouse, on_hand`` and, for one store,
``enabled, safety_quantity, price, min_price, backmarket_id, grade, warranty_months``) or, for merchants
moving from SellerCloud, its names (``ProductID``, ``ProductName`` and the Back Market custom columns
``BACKMARKET_ENABLED_US, BACKMARKET_SAFETY_QTY, BACKMARKET_PRICE_US, BACKMARKET_MIN_PRICE_US,
BACKMARKET_ID, BACKMARKET_GRADE, BACKMARKET_WARRANTY_DELAY``); headers match case-insensitively.

- A column that is absent leaves its value alone; an empty cell clears it (or sets the default: not
  enabled, safety quantity 0, warranty 12 months). An empty ``on_hand`` leaves the stock alone.
- ``on_hand`` is a count: the stock level is set to it (a CSV upload movement records the difference).
  ``warehouse`` names the warehouse; empty means the default one. A SKU may have one row per warehouse.
- UTF-8 with or without a BOM (Windows-1252 is accepted with a warning); ``,`` ``;`` or tab delimited,
  taken from the header line; decimal commas (``612,50``) are read; ``1,234`` is refused as ambiguous.
- Rows are numbered as a spreadsheet shows them (the header is row 1). A bad row is reported with its
  number and reason and skipped; the good rows import, in one transaction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TextIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.db.models.functions import Upper
from django.utils import timezone

from orders.models import Warehouse
from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..models import Grade, ListingSettings, Product, StockLevel
from ..models.listing import MIN_WARRANTY_MONTHS, backmarket_id_clean
from ..models.product import BACKMARKET_GRADE_NAMES
from ..models.stock import Reason
from .listing_push import listing_push_request
from .listing_settings import PUSHED_FIELDS
from .stock import (
    CHUNK,
    StockChange,
    StockCount,
    default_warehouse_ids,
    sku_key,
    stock_allocate_for_skus,
    stock_set_counts,
)

if TYPE_CHECKING:
    from channels.models import Store

PRODUCT_COLUMNS = ("sku", "name", "image_url", "weight_grams", "cost")
STOCK_COLUMNS = ("warehouse", "on_hand")
STORE_COLUMNS = ("enabled", "safety_quantity", "price", "min_price", "backmarket_id", "grade", "warranty_months")

SELLERCLOUD_NAMES = {
    "sku": "ProductID",
    "name": "ProductName",
    "enabled": "BACKMARKET_ENABLED_US",
    "safety_quantity": "BACKMARKET_SAFETY_QTY",
    "price": "BACKMARKET_PRICE_US",
    "min_price": "BACKMARKET_MIN_PRICE_US",
    "backmarket_id": "BACKMARKET_ID",
    "grade": "BACKMARKET_GRADE",
    "warranty_months": "BACKMARKET_WARRANTY_DELAY",
}


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip('"').strip()).lower()


HEADER_ALIASES: dict[str, str] = {
    **{name: name for name in (*PRODUCT_COLUMNS, *STOCK_COLUMNS, *STORE_COLUMNS)},
    **{_normalise_header(theirs): ours for ours, theirs in SELLERCLOUD_NAMES.items()},
    "quantity": "on_hand",
    "qty": "on_hand",
    "image": "image_url",
    "title": "name",
}

TRUE = {"1", "true", "yes", "y", "on", "x", "t", "enabled"}
FALSE = {"0", "false", "no", "n", "off", "", "f", "disabled"}
GRADE_NAMES = {
    **{name: value for value, name in BACKMARKET_GRADE_NAMES.items()},
    **{_normalise_header(grade.label): grade.value for grade in Grade},
    "MINT": 0,
    "VERY GOOD": 1,
}


class CellError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    sku: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.sku}: {self.message}" if self.sku else f"row {self.row}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stock_movements: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stock: StockChange = field(default_factory=StockChange)  # products whose available quantity changed
    store_name: str = ""

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


# --- cells ---------------------------------------------------------------------------------------


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise CellError(f"{text!r} is not yes/no (true, false, 1, 0)")


def parse_int(text: str, *, minimum: int | None = None, default: int | None = None) -> int | None:
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if not value:
        return default
    if re.fullmatch(r"[+-]?\d+([.,]0+)?", value):  # "3", "3.0", "3,00" (spreadsheets)
        number = int(re.split(r"[.,]", value)[0])
    else:
        raise CellError(f"{text!r} is not a whole number")
    if minimum is not None and number < minimum:
        raise CellError(f"{number} is below {minimum}")
    return number


def parse_decimal(text: str, *, places: int, digits: int) -> Decimal | None:
    """A non-negative amount; a decimal comma is fine, a lone thousands comma is refused as ambiguous."""
    value = text.strip().replace("\u00a0", "").replace(" ", "").strip("$€£")
    if not value:
        return None
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")  # 1.234,50
        else:
            value = value.replace(",", "")  # 1,234.50
    elif value.count(",") == 1:
        if len(value.split(",")[1]) == 3:
            raise CellError(f"{text!r} is ambiguous: write 1234 or 1234.00 (or 1,23 with a decimal comma)")
        value = value.replace(",", ".")
    elif value.count(",") > 1:
        value = value.replace(",", "")  # 1,234,567
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise CellError(f"{text!r} is not a number")
    if number < 0:
        raise CellError(f"{text!r} is negative")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise CellError(f"{text!r} has more than {places} decimals")
    if number >= 1 and number.adjusted() + 1 > digits - places:
        raise CellError(f"{text!r} is too large")
    return number


def parse_grade(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if value.isdigit():
        if int(value) in Grade.values:
            return int(value)
        raise CellError(f"grade {value} is not 0-4 (0 Mint, 1 Very Good, 2 Good, 3 Fair, 4 Stallone)")
    for key in (value.upper(), _normalise_header(value), value.upper().replace("_", " ")):
        if key in GRADE_NAMES:
            return GRADE_NAMES[key]
    raise CellError(f"{text!r} is not a grade (0 Mint, 1 Very Good, 2 Good, 3 Fair, 4 Stallone)")


_url = URLValidator(schemes=["http", "https"])


def _cell(field_name: str, text: str) -> Any:
    """Our value for one cell (raises CellError with the reason)."""
    text = text.strip()
    if field_name == "sku":
        if len(text) > 100:
            raise CellError("SKU is longer than 100 characters")
        return text
    if field_name == "name":
        if len(text) > 500:
            raise CellError("name is longer than 500 characters")
        return text
    if field_name == "image_url":
        if text:
            try:
                _url(text)
            except ValidationError:
                raise CellError(f"image_url {text!r} is not an http(s) address") from None
            if len(text) > 1000:
                raise CellError("image_url is longer than 1000 characters")
        return text
    if field_name == "weight_grams":
        return parse_decimal(text, places=2, digits=12)
    if field_name in ("cost", "price", "min_price"):
        return parse_decimal(text, places=4, digits=14)
    if field_name == "warehouse":
        return text
    if field_name == "on_hand":
        return parse_int(text, minimum=0)
    if field_name == "enabled":
        return parse_bool(text)
    if field_name == "safety_quantity":
        return parse_int(text, minimum=0, default=0)
    if field_name == "backmarket_id":
        try:
            return backmarket_id_clean(text) if text else ""
        except ValueError as exc:
            raise CellError(str(exc)) from None
    if field_name == "grade":
        return parse_grade(text)
    if field_name == "warranty_months":
        return parse_int(text, minimum=MIN_WARRANTY_MONTHS, default=MIN_WARRANTY_MONTHS)
    raise AssertionError(field_name)


# --- reading ---------------------------------------------------------------------------------------


def _decode(data: bytes | str, warnings: list[str]) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        warnings.append("The file is not UTF-8; it was read as Windows-1252.")
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """, ; or tab: whichever the header line has most of (a header is rarely quoted)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


@dataclass(slots=True)
class _Row:
    number: int
    values: dict[str, Any]  # field -> parsed value, for the columns the file has

    @property
    def sku(self) -> str:
        return self.values["sku"]


def _read(text: str, report: ImportReport) -> tuple[list[str], list[_Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ApplicationError("The file is empty.") from None
    except csv.Error as exc:
        raise ApplicationError(f"The header line cannot be read: {exc}") from None
    columns: list[str | None] = []
    for name in header:
        key = HEADER_ALIASES.get(_normalise_header(name))
        if key is None and name.strip():
            report.warnings.append(f"Column {name.strip()!r} is not one we know; it was ignored.")
        if key is not None and key in columns:
            raise ApplicationError(f"Two columns mean {key}: keep one of them.")
        columns.append(key)
    if "sku" not in columns:
        raise ApplicationError("The file has no SKU column (sku, or ProductID as SellerCloud names it).")
    rows = []
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            report.errors.append(RowError(number, "", f"cannot be read: {exc}"))
            continue
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
            report.errors.append(RowError(number, "", f"has {len(cells)} cells but the header has {len(columns)}"))
            continue
        cells = cells + [""] * (len(columns) - len(cells))
        values: dict[str, Any] = {}
        problems = []
        for key, cell in zip(columns, cells, strict=False):
            if key is None:
                continue
            try:
                values[key] = _cell(key, cell)
            except CellError as exc:
                problems.append(f"{key}: {exc}")
        sku = values.get("sku") or cells[columns.index("sku")].strip()[:100]
        if not values.get("sku") and not problems:
            problems.append("the SKU is empty")
        if problems:
            report.errors.append(RowError(number, sku, "; ".join(problems)))
            continue
        rows.append(_Row(number, values))
    return [column for column in columns if column is not None], rows


# --- import ----------------------------------------------------------------------------------------


def _store_for(merchant: Merchant, store: Store | None, columns: list[str], report: ImportReport) -> Store | None:
    wanted = [column for column in columns if column in STORE_COLUMNS]
    if not wanted:
        if store is not None:
            report.warnings.append("The file has no store columns; nothing was set for the store.")
        return store
    if store is not None:
        if store.merchant_id != merchant.pk:
            raise ApplicationError("That store is not one of this merchant's.")
        return store
    candidates = list(merchant.stores.filter(kind="back_market", is_active=True)[:2])
    if len(candidates) != 1:
        raise ApplicationError(
            f"The file has store columns ({', '.join(wanted)}); say which store they are for (--store ID)."
        )
    report.warnings.append(f"Store columns were applied to {candidates[0].name}, the only Back Market store.")
    return candidates[0]


def products_import_csv(
    *,
    merchant: Merchant,
    data: bytes | str,
    store: Store | None = None,
    actor: AbstractBaseUser | None = None,
    filename: str = "",
) -> ImportReport:
    """Upsert products (and, with a store, their listing settings, and stock counts) from a CSV file.

    File-level problems (no SKU column, store columns without a store) raise ApplicationError and
    import nothing; a bad row is reported in ``errors`` and the others import.
    """
    report = ImportReport()
    text = _decode(data, report.warnings)
    columns, rows = _read(text, report)
    store = _store_for(merchant, store, columns, report)
    report.store_name = store.name if store is not None else ""
    warehouses = {
        warehouse.name.strip().lower(): warehouse.pk for warehouse in Warehouse.objects.filter(merchant=merchant)
    }
    default_warehouse = default_warehouse_ids([merchant.pk]).get(merchant.pk)

    # One SKU: its first row carries the product; other rows add stock counts for other warehouses.
    groups: dict[str, list[_Row]] = {}
    seen: dict[tuple[str, int | None], int] = {}
    for row in rows:
        warehouse_name = row.values.get("warehouse", "")
        if warehouse_name and warehouse_name.lower() not in warehouses:
            report.errors.append(RowError(row.number, row.sku, f"warehouse: there is no warehouse {warehouse_name!r}"))
            continue
        row.values["warehouse_id"] = warehouses[warehouse_name.lower()] if warehouse_name else default_warehouse
        key = (sku_key(row.sku), row.values["warehouse_id"])
        if key in seen:
            report.errors.append(
                RowError(row.number, row.sku, f"this SKU and warehouse are on row {seen[key]} already")
            )
            continue
        first = groups.get(key[0])
        if first is not None:
            differs = [
                column
                for column in columns
                if column not in (*STOCK_COLUMNS, "sku") and row.values.get(column) != first[0].values.get(column)
            ]
            if differs:
                report.errors.append(
                    RowError(
                        row.number,
                        row.sku,
                        f"{', '.join(differs)} differ from row {first[0].number} of the same SKU",
                    )
                )
                continue
        seen[key] = row.number
        groups.setdefault(key[0], []).append(row)

    with transaction.atomic():
        existing = _existing_products(merchant, groups)
        settings = _existing_settings(store, existing.values()) if store is not None else {}
        product_fields = [column for column in columns if column in PRODUCT_COLUMNS and column != "sku"]
        store_fields = [column for column in columns if column in STORE_COLUMNS]
        created: list[Product] = []
        updated: list[Product] = []
        new_settings: list[tuple[str, ListingSettings]] = []
        changed_settings: list[ListingSettings] = []
        outcome: dict[str, str] = {}
        for key, group in list(groups.items()):
            first = group[0]
            listing, listing_dirty = None, False
            if store is not None:
                listing = settings.get(key) or ListingSettings(store=store)
                values = {name: first.values[name] for name in store_fields}
                price = values.get("price", listing.price)
                min_price = values.get("min_price", listing.min_price)
                if price is not None and min_price is not None and min_price > price:
                    for row in group:
                        report.errors.append(
                            RowError(row.number, row.sku, f"min_price {min_price} is above price {price}")
                        )
                    del groups[key]
                    continue
                dirty = [name for name, value in values.items() if getattr(listing, name) != value]
                for name in dirty:
                    setattr(listing, name, values[name])
                listing_dirty = bool(dirty)  # a new row that only holds the defaults is not written
            product = existing.get(key)
            if product is None:
                product = Product(merchant=merchant, **{name: first.values[name] for name in ("sku", *product_fields)})
                created.append(product)
                outcome[key] = "created"
            else:
                dirty = [name for name in product_fields if getattr(product, name) != first.values[name]]
                for name in dirty:
                    setattr(product, name, first.values[name])
                if dirty:
                    updated.append(product)
                outcome[key] = "updated" if dirty or listing_dirty else "unchanged"
            existing[key] = product
            if listing_dirty:
                if listing.pk is None:
                    new_settings.append((key, listing))
                else:
                    changed_settings.append(listing)
        try:
            with transaction.atomic():
                Product.objects.bulk_create(created)
        except IntegrityError as exc:  # another upload created one of these SKUs meanwhile
            raise ApplicationError(f"The catalog changed while importing; try again. ({exc})") from exc
        now = timezone.now()  # bulk_update does not touch auto_now fields
        for row in (*updated, *changed_settings):
            row.updated_at = now
        if updated:
            Product.objects.bulk_update(updated, [*product_fields, "updated_at"], batch_size=CHUNK)
        for key, listing in new_settings:
            listing.product = existing[key]
        ListingSettings.objects.bulk_create([listing for _, listing in new_settings])
        if changed_settings:
            ListingSettings.objects.bulk_update(changed_settings, [*store_fields, "updated_at"], batch_size=CHUNK)
        if store is not None and PUSHED_FIELDS & set(store_fields):
            # Enabled, safety quantity or price changed: those listings are due (stock changes push by themselves).
            listing_push_request(
                product_ids=[listing.product_id for listing in changed_settings]
                + [listing.product_id for _, listing in new_settings],
                store_id=store.pk,
            )

        counts = [
            StockCount(
                product_id=existing[key].pk,
                warehouse_id=row.values["warehouse_id"],
                on_hand=row.values["on_hand"],
                note=f"{filename or 'CSV'} row {row.number}",
            )
            for key, group in groups.items()
            for row in group
            if row.values.get("on_hand") is not None
        ]
        change = stock_set_counts(merchant_id=merchant.pk, counts=counts, reason=Reason.CSV_UPLOAD, actor=actor)
        change |= stock_allocate_for_skus(merchant_id=merchant.pk, skus=[p.sku for p in created], actor=actor)
    report.stock = change
    report.stock_movements = change.movements
    for value in outcome.values():
        setattr(report, value, getattr(report, value) + 1)
    report.errors.sort(key=lambda error: error.row)
    return report


def _existing_products(merchant: Merchant, groups: dict[str, list[_Row]]) -> dict[str, Product]:
    keys = list(groups)
    found: dict[str, Product] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        for product in (
            Product.objects.select_for_update()
            .annotate(sku_upper=Upper("sku"))
            .filter(merchant=merchant, sku_upper__in=chunk)
        ):
            found[sku_key(product.sku)] = product
    return found


def _existing_settings(store: Store, products: Iterable[Product]) -> dict[str, ListingSettings]:
    by_id = {product.pk: product for product in products}
    ids = list(by_id)
    found: dict[str, ListingSettings] = {}
    for start in range(0, len(ids), CHUNK):
        for listing in ListingSettings.objects.select_for_update().filter(
            store=store, product_id__in=ids[start : start + CHUNK]
        ):
            found[sku_key(by_id[listing.product_id].sku)] = listing
    return found


# --- export ----------------------------------------------------------------------------------------


def _format(value: Any, *, money: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        if money and value == value.quantize(Decimal("0.01")):
            text = format(value.quantize(Decimal("0.01")), "f")
        return text
    return str(value)


def products_export_csv(
    *, merchant: Merchant, out: TextIO, store: Store | None = None, sellercloud_names: bool = False
) -> int:
    """Write the catalog as CSV (one row per product and warehouse); returns the number of rows.

    The columns are the import's, so the file imports back unchanged.
    """
    if store is not None and store.merchant_id != merchant.pk:
        raise ApplicationError("That store is not one of this merchant's.")
    columns = [*PRODUCT_COLUMNS, *STOCK_COLUMNS, *(STORE_COLUMNS if store is not None else ())]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([SELLERCLOUD_NAMES.get(column, column) if sellercloud_names else column for column in columns])
    products = Product.objects.filter(merchant=merchant).order_by(Upper("sku"), "pk")
    prefetches = [Prefetch("stock_levels", queryset=StockLevel.objects.select_related("warehouse"))]
    if store is not None:
        prefetches.append(Prefetch("listing_settings", queryset=ListingSettings.objects.filter(store=store)))
    count = 0
    for product in products.prefetch_related(*prefetches).iterator(chunk_size=1000):
        levels = sorted(product.stock_levels.all(), key=lambda lv: lv.warehouse.name if lv.warehouse else "")
        # A product without settings for the store shows the defaults, which import back as "nothing to write".
        listing = (next(iter(product.listing_settings.all()), None) or ListingSettings()) if store is not None else None
        for level in levels or [None]:
            values = {
                "sku": product.sku,
                "name": product.name,
                "image_url": product.image_url,
                "weight_grams": _format(product.weight_grams),
                "cost": _format(product.cost, money=True),
                "warehouse": level.warehouse.name if level is not None and level.warehouse else "",
                "on_hand": "" if level is None else str(level.on_hand),
            }
            if store is not None:
                values.update(
                    {
                        "enabled": _format(listing.enabled),
                        "safety_quantity": _format(listing.safety_quantity),
                        "price": _format(listing.price, money=True),
                        "min_price": _format(listing.min_price, money=True),
                        "backmarket_id": listing.backmarket_id,
                        "grade": _format(listing.grade),
                        "warranty_months": _format(listing.warranty_months),
                    }
                )
            writer.writerow([values[column] for column in columns])
            count += 1
    return count
