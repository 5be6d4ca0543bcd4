"""Stock follows orders: allocated on import, released on cancellation, taken from on hand on shipment.

State, not events: ``stock_sync_orders`` looks at the orders as they are now and gives each order line
the allocation it should have (one ``Allocation`` row per line) and each shipment line the deduction it
should have (one ``Deduction`` row per shipment line), then applies only the differences to the stock
levels. So a re-import, a retried task or a second call changes nothing, a quantity the marketplace
changed moves only the difference, and a voided shipment puts its units back.

Race-free: the rows are unique per order line / shipment line and read with ``select_for_update`` (a
second worker waits, then sees what the first one applied); stock levels are locked in primary-key
order and changed with F() expressions. Bulk: a constant number of queries per call, whatever the
number of orders and lines (an import calls it once per page).

Every change of on hand or allocated goes through ``_apply``, which records a ``StockMovement`` and
returns the products whose *available* quantity changed: the listing sync hooks in there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Upper
from django.utils import timezone

from orders.models import Order, OrderLine, Shipment, ShipmentLine, Warehouse
from orders.statuses import OrderStatus
from shipping.core.errors import ApplicationError

from ..models import Allocation, Deduction, Product, StockLevel, StockMovement
from ..models.stock import Reason
from .listing_push import listing_push_request

# Orders whose units are held: everything not shipped or cancelled (awaiting payment too: nothing is
# oversold because a payment was slow).
OPEN_STATUSES = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD})
CHUNK = 500  # orders per round of queries


def sku_key(sku: str) -> str:
    """How SKUs compare: trimmed, case-insensitive (Back Market's SKUs are case-insensitive too)."""
    return sku.strip().upper()


@dataclass(frozen=True, slots=True)
class StockChange:
    """What a stock service did: the products whose available quantity changed, and how many movements."""

    product_ids: frozenset[int] = frozenset()
    movements: int = 0

    def __or__(self, other: StockChange) -> StockChange:
        return StockChange(self.product_ids | other.product_ids, self.movements + other.movements)


@dataclass(slots=True)
class _Delta:
    merchant_id: int
    product_id: int
    warehouse_id: int | None
    reason: str
    on_hand: int = 0
    allocated: int = 0
    set_on_hand: int | None = None  # an absolute count (CSV, stock take): the change is taken under the lock
    order_id: int | None = None
    shipment_id: int | None = None
    notes: list[str] = field(default_factory=list)


def _user(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


def default_warehouse_ids(merchant_ids: Iterable[int]) -> dict[int, int]:
    """Each merchant's default warehouse, where orders allocate (absent: the merchant has no warehouse)."""
    return dict(
        Warehouse.objects.filter(merchant_id__in=set(merchant_ids), is_default=True)
        .order_by()
        .values_list("merchant_id", "id")
    )


def products_by_sku(merchant_ids: Iterable[int], skus: Iterable[str]) -> dict[tuple[int, str], int]:
    """{(merchant id, sku_key): product id} for the SKUs that are in the catalog: one query."""
    keys = {sku_key(sku) for sku in skus if sku and sku.strip()}
    if not keys:
        return {}
    rows = (  # the (merchant, UPPER(sku)) unique index answers this
        Product.objects.annotate(sku_upper=Upper("sku"))
        .filter(merchant_id__in=set(merchant_ids), sku_upper__in=keys)
        .order_by()
        .values_list("merchant_id", "sku", "id")
    )
    return {(merchant_id, sku_key(sku)): pk for merchant_id, sku, pk in rows}


# --- the one place stock levels change -------------------------------------------------------------


def _lock_levels(keys: set[tuple[int, int | None]]) -> dict[tuple[int, int | None], StockLevel]:
    """The stock levels for (product, warehouse), created when missing, locked in primary-key order."""
    product_ids = sorted({product_id for product_id, _ in keys})

    def locked() -> dict[tuple[int, int | None], StockLevel]:
        rows = StockLevel.objects.select_for_update().filter(product_id__in=product_ids).order_by("pk")
        return {(row.product_id, row.warehouse_id): row for row in rows}

    levels = locked()
    missing = sorted(keys - levels.keys(), key=lambda key: (key[0], key[1] or 0))
    if missing:
        # A concurrent creator makes ours a no-op (ON CONFLICT DO NOTHING); the second read sees its row.
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=product_id, warehouse_id=warehouse_id) for product_id, warehouse_id in missing],
            ignore_conflicts=True,
        )
        levels = locked()
    return levels


def _case(values: dict[int, int]) -> Case:
    return Case(
        *[When(pk=pk, then=Value(value)) for pk, value in values.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def _apply(deltas: Sequence[_Delta], *, actor: AbstractBaseUser | None = None) -> StockChange:
    """Apply changes to the stock levels and record them; returns the products whose available changed.

    Changes with the same product, warehouse, reason, order and shipment become one movement (a shipment
    from the default warehouse: on hand -1 and allocated -1 in one row). A constant number of queries.
    """
    merged: dict[tuple[Any, ...], _Delta] = {}
    for index, delta in enumerate(deltas):
        if delta.set_on_hand is None and not delta.on_hand and not delta.allocated:
            continue
        key = (delta.product_id, delta.warehouse_id, delta.reason, delta.order_id, delta.shipment_id)
        if delta.set_on_hand is not None:
            key += (index,)  # an absolute count is never merged
        if key in merged:
            into = merged[key]
            into.on_hand += delta.on_hand
            into.allocated += delta.allocated
            into.notes.extend(note for note in delta.notes if note not in into.notes)
        else:
            merged[key] = replace(delta, notes=list(delta.notes))
    if not merged:
        return StockChange()
    levels = _lock_levels({(delta.product_id, delta.warehouse_id) for delta in merged.values()})
    now = {level.pk: [level.on_hand, level.allocated] for level in levels.values()}
    on_hand_total: dict[int, int] = defaultdict(int)
    allocated_total: dict[int, int] = defaultdict(int)
    available: dict[int, int] = defaultdict(int)
    user = _user(actor)
    movements = []
    for delta in merged.values():
        level = levels[(delta.product_id, delta.warehouse_id)]
        state = now[level.pk]
        on_hand = delta.on_hand if delta.set_on_hand is None else delta.set_on_hand - state[0]
        if not on_hand and not delta.allocated:
            continue
        state[0] += on_hand
        state[1] += delta.allocated
        on_hand_total[level.pk] += on_hand
        allocated_total[level.pk] += delta.allocated
        available[delta.product_id] += on_hand - delta.allocated
        movements.append(
            StockMovement(
                merchant_id=delta.merchant_id,
                product_id=delta.product_id,
                warehouse_id=delta.warehouse_id,
                on_hand_change=on_hand,
                allocated_change=delta.allocated,
                on_hand_after=state[0],
                allocated_after=state[1],
                reason=delta.reason,
                order_id=delta.order_id,
                shipment_id=delta.shipment_id,
                actor=user,
                note="; ".join(delta.notes)[:300],
            )
        )
    if not movements:
        return StockChange()
    StockLevel.objects.filter(pk__in=list(on_hand_total)).update(
        on_hand=F("on_hand") + _case(on_hand_total),
        allocated=F("allocated") + _case(allocated_total),
        updated_at=timezone.now(),
    )
    StockMovement.objects.bulk_create(movements)
    changed = frozenset(pk for pk, change in available.items() if change)
    listing_push_request(product_ids=changed)  # the listings follow, within seconds of the commit
    return StockChange(changed, len(movements))


# --- orders ---------------------------------------------------------------------------------------


def _lock_rows(
    model, key: str, keys: Sequence[int], candidates: Callable[[set[int]], list[Any]], counters: Sequence[str]
) -> tuple[dict[int, Any], set[int]]:
    """Rows of ``model`` for ``keys`` (a unique column), locked; ``candidates(missing keys)`` are inserted.

    Candidates carry their final values, so a new order's rows cost one INSERT and no UPDATE; they come back
    with their ``counters`` at 0 in memory (the caller records the change from 0) and their keys in the set
    returned, so the caller does not write them again. If another worker inserted one of them first (its
    order existed already), they are inserted empty instead, after waiting for its commit, and locked: the
    caller then applies only the difference from what that worker left, and nothing is counted twice.
    """
    rows = {
        getattr(row, key): row
        for row in model.objects.select_for_update().filter(**{f"{key}__in": keys}).order_by("pk")
    }
    missing = sorted(candidates(set(keys) - rows.keys()), key=lambda row: getattr(row, key))
    if not missing:
        return rows, set()
    try:
        with transaction.atomic():
            model.objects.bulk_create(missing)
    except IntegrityError:
        for row in missing:
            row.pk = None
            for name in counters:
                setattr(row, name, 0)
        model.objects.bulk_create(missing, ignore_conflicts=True)
        fresh = model.objects.select_for_update().filter(**{f"{key}__in": [getattr(row, key) for row in missing]})
        rows.update({getattr(row, key): row for row in fresh.order_by("pk")})
        return rows, set()
    for row in missing:
        for name in counters:
            setattr(row, name, 0)
        rows[getattr(row, key)] = row
    return rows, {getattr(row, key) for row in missing}


def stock_sync_orders(
    *,
    order_ids: Iterable[int],
    event: str,
    actor: AbstractBaseUser | None = None,
) -> StockChange:
    """Make the stock match these orders as they are now (the ``ORDER_STOCK_HOOKS`` entry point).

    ``event`` (a ``Reason`` value) names what happened, for the movements' reason; a cancellation,
    a shipment or a void is recognised from the order itself. Call inside the caller's transaction.
    """
    ids = sorted(set(order_ids))
    reason = Reason(event)
    result = StockChange()
    with transaction.atomic(savepoint=False):
        for start in range(0, len(ids), CHUNK):
            result |= _sync_chunk(ids[start : start + CHUNK], reason, actor)
    return result


def _sync_chunk(ids: list[int], event: Reason, actor: AbstractBaseUser | None) -> StockChange:
    # A merchant without a catalog has nothing to allocate and, products cascading to their rows, nothing
    # to release: one query.
    merchants = Order.objects.filter(pk__in=ids).order_by().values("merchant_id")
    if not Product.objects.filter(merchant_id__in=merchants).exists():
        return StockChange()
    # Single-table reads (no joins): their plans stay index lookups even before the planner has statistics
    # (a freshly loaded database), where a join of order lines to orders can turn into a nested loop of scans.
    orders = {
        row["id"]: row
        for row in Order.objects.filter(pk__in=ids).order_by().values("id", "status", "merchant_id", "order_number")
    }
    merchant_ids = {order["merchant_id"] for order in orders.values()}
    lines = sorted(
        OrderLine.objects.filter(order_id__in=ids)
        .order_by()
        .values("id", "order_id", "sku", "quantity", "removed_at", "cancelled_at", "is_adjustment"),
        key=lambda line: line["id"],
    )
    for line in lines:
        order = orders[line["order_id"]]
        line["order__status"] = order["status"]
        line["order__merchant_id"] = order["merchant_id"]
        line["order__order_number"] = order["order_number"]
    products = products_by_sku(merchant_ids, (line["sku"] for line in lines if not line["is_adjustment"]))
    shipments = {
        row["id"]: row
        for row in Shipment.objects.filter(order_id__in=ids).order_by().values("id", "voided_at", "warehouse_id")
    }
    shipment_lines = sorted(
        ShipmentLine.objects.filter(shipment_id__in=list(shipments))
        .order_by()
        .values("id", "order_line_id", "quantity", "shipment_id"),
        key=lambda row: row["id"],
    )
    for row in shipment_lines:
        row["shipment__voided_at"] = shipments[row["shipment_id"]]["voided_at"]
        row["shipment__warehouse_id"] = shipments[row["shipment_id"]]["warehouse_id"]
    defaults: dict[int, int] | None = None

    def default_warehouse(merchant_id: int) -> int | None:
        nonlocal defaults
        if defaults is None:  # read only when a row is created or moves
            defaults = default_warehouse_ids(merchant_ids)
        return defaults.get(merchant_id)

    deleting = event == Reason.ORDER_DELETED

    def product_of(line: dict[str, Any]) -> int | None:
        if line["is_adjustment"] or not line["sku"]:
            return None
        return products.get((line["order__merchant_id"], sku_key(line["sku"])))

    shipped: dict[int, int] = defaultdict(int)
    for row in shipment_lines:
        if row["shipment__voided_at"] is None:
            shipped[row["order_line_id"]] += row["quantity"]

    def wanted(line: dict[str, Any], product_id: int | None) -> tuple[int, int]:
        """(units to hold, units shipped without a shipment of ours) for the line as it is now."""
        status = line["order__status"]
        live = not (line["removed_at"] or line["cancelled_at"] or line["is_adjustment"] or deleting)
        if not live or product_id is None or status == OrderStatus.CANCELLED:
            return 0, 0
        remaining = max(0, line["quantity"] - shipped[line["id"]])
        if status == OrderStatus.SHIPPED:
            return 0, remaining
        return remaining, 0

    # A line gets its row the first time it is seen on an open order with a catalog SKU; orders first seen
    # shipped or cancelled are history and never touch stock.
    by_line = {line["id"]: line for line in lines}

    def new_allocations(missing: set[int]) -> list[Allocation]:
        rows = []
        for line_id in missing:
            line = by_line[line_id]
            product_id = product_of(line)
            held = wanted(line, product_id)[0]
            if product_id is not None and line["order__status"] in OPEN_STATUSES and held:
                warehouse_id = default_warehouse(line["order__merchant_id"])
                rows.append(
                    Allocation(order_line_id=line_id, product_id=product_id, warehouse_id=warehouse_id, quantity=held)
                )
        return rows

    allocations, allocations_inserted = _lock_rows(
        Allocation, "order_line_id", list(by_line), new_allocations, ("quantity", "shipped_elsewhere")
    )
    by_shipment_line = {row["id"]: row for row in shipment_lines}

    def new_deductions(missing: set[int]) -> list[Deduction]:
        rows = []
        for row_id in missing:
            row = by_shipment_line[row_id]
            product_id = product_of(by_line[row["order_line_id"]])
            if product_id is not None and row["shipment__voided_at"] is None and not deleting:
                rows.append(
                    Deduction(
                        shipment_line_id=row_id,
                        product_id=product_id,
                        warehouse_id=row["shipment__warehouse_id"],
                        quantity=row["quantity"],
                    )
                )
        return rows

    deductions, deductions_inserted = _lock_rows(
        Deduction, "shipment_line_id", list(by_shipment_line), new_deductions, ("quantity",)
    )
    # Rows inserted just now hold their final values already: their changes are recorded, not written again.
    written = {(Allocation, allocations[key].pk) for key in allocations_inserted}
    written |= {(Deduction, deductions[key].pk) for key in deductions_inserted}
    allocation_fields = ["quantity", "shipped_elsewhere", "updated_at"]

    deltas: list[_Delta] = []
    changed: dict[tuple[type, int], Any] = {}
    shipment_of_line: dict[int, tuple[Reason, int]] = {}
    for row in shipment_lines:
        deduction = deductions.get(row["id"])
        if deduction is None:
            continue
        line = by_line[row["order_line_id"]]
        want = 0 if row["shipment__voided_at"] is not None or deleting else row["quantity"]
        diff = want - deduction.quantity
        if not diff:
            continue
        reason = Reason.SHIPMENT if diff > 0 else Reason.SHIPMENT_VOID
        what = "shipped" if diff > 0 else "shipment voided:"
        deltas.append(
            _Delta(
                merchant_id=line["order__merchant_id"],
                product_id=deduction.product_id,
                warehouse_id=deduction.warehouse_id,
                reason=reason,
                on_hand=-diff,
                order_id=line["order_id"],
                shipment_id=row["shipment_id"],
                notes=[f"{line['order__order_number']}: {what} {abs(diff)} x {line['sku']}"],
            )
        )
        deduction.quantity = want
        changed[(Deduction, deduction.pk)] = deduction
        shipment_of_line[line["id"]] = (reason, row["shipment_id"])

    for line in lines:
        allocation = allocations.get(line["id"])
        if allocation is None:
            continue
        merchant_id, order_id = line["order__merchant_id"], line["order_id"]
        number, sku = line["order__order_number"], line["sku"]
        product_id = product_of(line)
        if product_id is not None and product_id != allocation.product_id:
            # The marketplace changed the line's SKU: what the old product held goes back first.
            deltas.append(
                _Delta(
                    merchant_id=merchant_id,
                    product_id=allocation.product_id,
                    warehouse_id=allocation.warehouse_id,
                    reason=event,
                    on_hand=allocation.shipped_elsewhere,
                    allocated=-allocation.quantity,
                    order_id=order_id,
                    notes=[f"{number}: SKU changed to {sku}"],
                )
            )
            allocation.product_id = product_id
            allocation.warehouse_id = default_warehouse(merchant_id)
            allocation.quantity = allocation.shipped_elsewhere = 0
            changed[(Allocation, allocation.pk)] = allocation
            allocation_fields = ["product", "warehouse", "quantity", "shipped_elsewhere", "updated_at"]
        want_held, want_elsewhere = wanted(line, product_id)  # product_id is None or the allocation's now
        held = want_held - allocation.quantity
        elsewhere = want_elsewhere - allocation.shipped_elsewhere
        if not held and not elsewhere:
            continue
        reason, shipment_id, note = _why(
            line, event, allocation, want_held, elsewhere, shipment_of_line, known=product_id is not None
        )
        deltas.append(
            _Delta(
                merchant_id=merchant_id,
                product_id=allocation.product_id,
                warehouse_id=allocation.warehouse_id,
                reason=reason,
                on_hand=-elsewhere,
                allocated=held,
                order_id=order_id,
                shipment_id=shipment_id,
                notes=[f"{number}: {note}"] if note else [],
            )
        )
        allocation.quantity, allocation.shipped_elsewhere = want_held, want_elsewhere
        changed[(Allocation, allocation.pk)] = allocation

    now = timezone.now()
    for model, fields in ((Allocation, allocation_fields), (Deduction, ["quantity", "updated_at"])):
        rows = [row for (kind, pk), row in changed.items() if kind is model and (kind, pk) not in written]
        for row in rows:
            row.updated_at = now
        if rows:
            model.objects.bulk_update(rows, fields)
    return _apply(deltas, actor=actor)


def _why(
    line: dict[str, Any],
    event: Reason,
    allocation: Allocation,
    want_held: int,
    elsewhere: int,
    shipment_of_line: dict[int, tuple[Reason, int]],
    *,
    known: bool,
) -> tuple[Reason, int | None, str]:
    """The reason, shipment and note of an allocation change (``known``: the line's SKU is in the catalog)."""
    sku = line["sku"]
    if event == Reason.ORDER_DELETED:
        return event, None, "order deleted"
    if not known:
        return event, None, f"SKU changed to {sku or '(none)'}, not in the catalog"
    if elsewhere > 0:
        return Reason.SHIPMENT, None, f"shipped at the marketplace: {elsewhere} x {sku}"
    if line["id"] in shipment_of_line:  # merges with the shipment's own movement
        reason, shipment_id = shipment_of_line[line["id"]]
        return reason, shipment_id, ""
    if want_held < allocation.quantity:
        if line["order__status"] == OrderStatus.CANCELLED:
            return Reason.CANCELLATION, None, f"order cancelled: {sku} released"
        if line["cancelled_at"]:
            return Reason.CANCELLATION, None, f"line {sku} cancelled"
        if line["removed_at"]:
            return event, None, f"line {sku} removed by the marketplace"
    if elsewhere < 0:
        return event, None, f"reopened: {-elsewhere} x {sku} back"
    if allocation.quantity == 0:
        return event, None, f"allocated {want_held} x {sku}"
    return event, None, f"{sku} quantity {allocation.quantity} -> {want_held}"


def stock_allocate_for_skus(
    *, merchant_id: int, skus: Iterable[str], actor: AbstractBaseUser | None = None
) -> StockChange:
    """Open orders whose lines carry these SKUs take their units (the SKUs just joined the catalog)."""
    keys = sorted({sku_key(sku) for sku in skus if sku and sku.strip()})
    order_ids: set[int] = set()
    for start in range(0, len(keys), CHUNK):
        order_ids.update(
            OrderLine.objects.annotate(sku_upper=Upper("sku"))
            .filter(
                order__merchant_id=merchant_id,
                order__status__in=OPEN_STATUSES,
                sku_upper__in=keys[start : start + CHUNK],
                removed_at__isnull=True,
                cancelled_at__isnull=True,
            )
            .values_list("order_id", flat=True)
            .distinct()
        )
    if not order_ids:
        return StockChange()
    return stock_sync_orders(order_ids=order_ids, event=Reason.CATALOG_CHANGE, actor=actor)


# --- people ---------------------------------------------------------------------------------------


@transaction.atomic
def stock_adjust(
    *,
    product: Product,
    change: int | None = None,
    on_hand: int | None = None,
    warehouse: Warehouse | None = None,
    actor: AbstractBaseUser | None = None,
    note: str = "",
    reason: str = Reason.MANUAL_ADJUSTMENT,
) -> StockChange:
    """Change on hand by ``change`` units, or set it to ``on_hand`` (a count), at a warehouse (default: the
    merchant's default warehouse). ``reason``: a person (manual adjustment) or the API."""
    if (change is None) == (on_hand is None):
        raise ApplicationError("Give either a change or a new on-hand count.")
    if on_hand is not None and on_hand < 0:
        raise ApplicationError("An on-hand count cannot be negative.", field_errors={"on_hand": ["Not below 0."]})
    if warehouse is not None and warehouse.merchant_id != product.merchant_id:
        raise ApplicationError("No such warehouse.", field_errors={"warehouse": ["Not one of yours."]})
    warehouse_id = warehouse.pk if warehouse else default_warehouse_ids([product.merchant_id]).get(product.merchant_id)
    delta = _Delta(
        merchant_id=product.merchant_id,
        product_id=product.pk,
        warehouse_id=warehouse_id,
        reason=Reason(reason),
        on_hand=change or 0,
        set_on_hand=on_hand,
        notes=[note] if note else [],
    )
    return _apply([delta], actor=actor)


@dataclass(frozen=True, slots=True)
class StockCount:
    """A counted on-hand quantity for one product at one warehouse (None: the merchant has none)."""

    product_id: int
    warehouse_id: int | None
    on_hand: int
    note: str = ""


def stock_set_counts(
    *, merchant_id: int, counts: Sequence[StockCount], reason: str, actor: AbstractBaseUser | None = None
) -> StockChange:
    """Set on hand to counted values, many at once (a CSV upload, a stock take): each change is taken under the
    row lock, so a shipment committing meanwhile is not undone. Call in a transaction."""
    deltas = [
        _Delta(
            merchant_id=merchant_id,
            product_id=count.product_id,
            warehouse_id=count.warehouse_id,
            reason=Reason(reason),
            set_on_hand=count.on_hand,
            notes=[count.note] if count.note else [],
        )
        for count in counts
    ]
    with transaction.atomic(savepoint=False):
        return _apply(deltas, actor=actor)
