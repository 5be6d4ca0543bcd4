"""Stock follows orders: imports allocate once, cancellations release, shipments take units out, voids put
them back; unknown SKUs are flagged, not errors; a page costs a constant number of queries."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Allocation, StockLevel, StockMovement
from catalog.models.stock import Reason
from catalog.selectors import order_lines_unknown_sku, stock_available, unknown_skus_for_order
from catalog.services.stock import stock_adjust, stock_sync_orders
from channels.services.order_import_run import order_import_run
from orders.models import Order, Warehouse
from orders.services.cancel import order_cancel
from orders.services.order_api import order_delete_from_api
from orders.services.shipments import shipment_create, shipment_void
from shipping.core.errors import ApplicationError
from tests.catalog.conftest import ext_order, import_one, import_page, make_product, stock
from tests.conftest import fake_order
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def statements(queries) -> list[str]:
    """The SQL run, without the savepoints of the test's own atomic block."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def ship(order, quantities=None, **kwargs):
    return shipment_create(
        order=order,
        carrier_code="ups",
        service_code="ups_ground",
        tracking_number="1Z1",
        quantities=quantities,
        **kwargs,
    )


def test_an_imported_order_allocates_its_units_once_however_often_it_is_re_imported(store, merchant):
    phone = make_product(merchant, "IPH13-128", on_hand=10)

    order = import_one(store, ext_order("1", ("iph13-128", 2)))  # SKUs match case-insensitively
    assert stock(phone) == (10, 2, 8)

    import_one(store, ext_order("1", ("iph13-128", 2), minute=5))  # the marketplace touched it
    import_page(store, ext_order("1", ("iph13-128", 2), minute=5))  # the overlap window brings it again
    stock_sync_orders(order_ids=[order.pk], event="order_import")  # a retried task

    assert stock(phone) == (10, 2, 8)
    [movement] = StockMovement.objects.filter(product=phone, reason=Reason.ORDER_IMPORT)
    assert (movement.allocated_change, movement.allocated_after, movement.order_id) == (2, 2, order.pk)
    assert movement.note == "N1: allocated 2 x iph13-128"


def test_end_to_end_the_scheduled_import_allocates_and_a_marketplace_change_adjusts(store, market, merchant):
    phone = make_product(merchant, "IPH13-128", on_hand=3)
    market.put(fake_order("7001", minutes_ago=30))  # 1 x IPH13-128
    market.put(fake_order("7002", minutes_ago=29, lines=[{"id": "a", "sku": "UNKNOWN", "name": "?", "qty": 1}]))

    run = order_import_run(store_id=store.pk)
    assert (run.created_count, run.quarantined_count) == (2, 0)  # an unknown SKU is no reason to refuse an order
    assert stock(phone) == (3, 1, 2)

    order_import_run(store_id=store.pk)  # the next run sees them again (overlap window): nothing moves
    assert stock(phone) == (3, 1, 2)

    market.put(fake_order("7001", minutes_ago=5, status="cancelled"))
    order_import_run(store_id=store.pk)
    assert stock(phone) == (3, 0, 3)
    assert StockMovement.objects.filter(product=phone).first().reason == Reason.CANCELLATION


def test_a_changed_quantity_moves_the_difference_and_a_removed_line_gives_its_units_back(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=10)
    case = make_product(merchant, "CASE", on_hand=10)
    import_one(store, ext_order("1", ("IPH13", 1), ("CASE", 1)))
    assert (stock(phone), stock(case)) == ((10, 1, 9), (10, 1, 9))

    import_one(store, ext_order("1", ("IPH13", 3), ("CASE", 1), minute=1))
    assert stock(phone) == (10, 3, 7)
    assert StockMovement.objects.filter(product=phone).first().note == "N1: IPH13 quantity 1 -> 3"

    import_one(store, ext_order("1", ("IPH13", 3), minute=2))  # the marketplace dropped the case
    assert (stock(phone), stock(case)) == ((10, 3, 7), (10, 0, 10))
    assert StockMovement.objects.filter(product=case).first().note == "N1: line CASE removed by the marketplace"


def test_cancelling_an_order_releases_its_units(store, merchant, owner):
    phone = make_product(merchant, "IPH13", on_hand=5)
    case = make_product(merchant, "CASE", on_hand=5)
    order = import_one(store, ext_order("1", ("IPH13", 2), ("CASE", 1)))
    [phone_line, _case_line] = order.lines.all()

    order_cancel(order=order, line_ids=[phone_line.pk], actor=owner)  # one line first
    assert (stock(phone), stock(case)) == ((5, 0, 5), (5, 1, 4))
    movement = StockMovement.objects.filter(product=phone).first()
    assert (movement.reason, movement.allocated_change, movement.actor) == (Reason.CANCELLATION, -2, owner)

    order_cancel(order=order)
    assert (stock(phone), stock(case)) == ((5, 0, 5), (5, 0, 5))
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_a_cancellation_at_the_marketplace_releases_too(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=5)
    import_one(store, ext_order("1", ("IPH13", 2)))
    import_one(store, ext_order("1", ("IPH13", 2), status="cancelled", minute=1), status="cancelled")
    assert stock(phone) == (5, 0, 5)
    assert StockMovement.objects.filter(product=phone).first().reason == Reason.CANCELLATION


def test_partial_shipments_take_units_out_of_on_hand_and_allocation(store, merchant, warehouse):
    phone = make_product(merchant, "IPH13", on_hand=10)
    order = import_one(store, ext_order("1", ("IPH13", 3)))
    line = order.lines.get()

    first = ship(order, quantities={line.pk: 1})
    assert stock(phone) == (9, 2, 7)  # available does not move: the units were held already
    second = ship(order)
    assert stock(phone) == (7, 0, 7)
    assert Order.objects.get(pk=order.pk).status == "shipped"

    shipped = StockMovement.objects.filter(product=phone, reason=Reason.SHIPMENT).order_by("id")
    assert [(m.shipment_id, m.on_hand_change, m.allocated_change) for m in shipped] == [
        (first.pk, -1, -1),
        (second.pk, -2, -2),
    ]
    assert shipped[0].warehouse == warehouse and shipped[0].note == "N1: shipped 1 x IPH13"


def test_a_voided_shipment_puts_the_units_back(store, merchant, warehouse):
    phone = make_product(merchant, "IPH13", on_hand=10)
    order = import_one(store, ext_order("1", ("IPH13", 3)))
    line = order.lines.get()
    ship(order, quantities={line.pk: 1})
    second = ship(order)
    assert stock(phone) == (7, 0, 7)

    shipment_void(shipment=second)

    assert stock(phone) == (9, 2, 7)  # back on the shelf, and held again for the reopened order
    assert Order.objects.get(pk=order.pk).status == "awaiting_shipment"
    void = StockMovement.objects.filter(product=phone).first()
    assert (void.reason, void.on_hand_change, void.allocated_change, void.shipment_id) == (
        Reason.SHIPMENT_VOID,
        2,
        2,
        second.pk,
    )
    ship(order)  # and shipping again takes them once more
    assert stock(phone) == (7, 0, 7)


def test_a_shipment_from_another_warehouse_takes_units_from_there(store, merchant, warehouse):
    annex = Warehouse.objects.create(merchant=merchant, name="Annex")
    phone = make_product(merchant, "IPH13", on_hand=5)
    stock_adjust(product=phone, on_hand=4, warehouse=annex)
    order = import_one(store, ext_order("1", ("IPH13", 2)))

    ship(order, warehouse=annex)

    levels = {
        level.warehouse.name: (level.on_hand, level.allocated) for level in StockLevel.objects.filter(product=phone)
    }
    assert levels == {"Main": (5, 0), "Annex": (2, 0)}  # held at the default, taken from the annex
    assert stock(phone) == (7, 0, 7)


def test_an_order_marked_shipped_at_the_marketplace_takes_its_units(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=5)
    import_one(store, ext_order("1", ("IPH13", 2)))
    import_one(store, ext_order("1", ("IPH13", 2), status="shipped", minute=1), status="shipped")

    assert stock(phone) == (3, 0, 3)
    movement = StockMovement.objects.filter(product=phone).first()
    assert (movement.reason, movement.on_hand_change, movement.allocated_change) == (Reason.SHIPMENT, -2, -2)
    assert movement.note == "N1: shipped at the marketplace: 2 x IPH13"


def test_orders_first_seen_shipped_or_cancelled_are_history_and_leave_stock_alone(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=5)
    import_one(store, ext_order("1", ("IPH13", 2), status="shipped"), status="shipped")
    import_one(store, ext_order("2", ("IPH13", 1), status="cancelled"), status="cancelled")
    assert stock(phone) == (5, 0, 5)
    assert not Allocation.objects.exists()


def test_an_unknown_sku_is_flagged_on_the_order_not_an_error(store, merchant):
    make_product(merchant, "IPH13", on_hand=5)
    order = import_one(store, ext_order("1", ("IPH13", 1), ("MYSTERY-1", 2), ("", 1)))

    assert order.lines.count() == 3  # imported whole
    assert unknown_skus_for_order(order=order) == ["MYSTERY-1", "(no SKU)"]
    flagged = order_lines_unknown_sku(merchant=merchant, order_ids=[order.pk])[order.pk]
    assert {line.sku for line in order.lines.filter(pk__in=flagged)} == {"MYSTERY-1", ""}

    # Adding the SKU to the catalog clears the flag and the open order takes its units at once.
    mystery = make_product(merchant, "mystery-1", on_hand=3)
    assert unknown_skus_for_order(order=order) == ["(no SKU)"]
    assert stock(mystery) == (3, 2, 1)
    assert StockMovement.objects.filter(product=mystery, reason=Reason.CATALOG_CHANGE).exists()


def test_a_line_whose_sku_changes_moves_its_allocation(store, merchant):
    black = make_product(merchant, "IPH13-BLK", on_hand=5)
    white = make_product(merchant, "IPH13-WHT", on_hand=5)
    import_one(store, ext_order("1", ("IPH13-BLK", 2)))
    import_one(store, ext_order("1", ("IPH13-WHT", 2), minute=1))
    assert (stock(black), stock(white)) == ((5, 0, 5), (5, 2, 3))
    assert StockMovement.objects.filter(product=black).first().note == "N1: SKU changed to IPH13-WHT"

    import_one(store, ext_order("1", ("IPH13-RED", 2), minute=2))  # not in the catalog: released, and flagged
    assert stock(white) == (5, 0, 5)
    assert (
        StockMovement.objects.filter(product=white).first().note == "N1: SKU changed to IPH13-RED, not in the catalog"
    )


def test_deleting_an_api_order_gives_its_units_back(merchant):
    manual = StoreFactory(merchant=merchant, kind="manual")
    phone = make_product(merchant, "IPH13", on_hand=5)
    order = import_one(manual, ext_order("1", ("IPH13", 2)))
    assert stock(phone) == (5, 2, 3)

    order_delete_from_api(order=order)

    assert stock(phone) == (5, 0, 5)
    assert StockMovement.objects.filter(product=phone).first().reason == Reason.ORDER_DELETED


def test_the_services_say_which_products_available_quantity_changed(store, merchant, warehouse):
    phone = make_product(merchant, "IPH13", on_hand=5)
    case = make_product(merchant, "CASE", on_hand=5)
    [result] = import_page(store, ext_order("1", ("IPH13", 1), ("CASE", 1)))
    order = Order.objects.get(pk=result.order_id)
    Allocation.objects.all().delete()  # as if never allocated
    StockLevel.objects.update(allocated=0)

    change = stock_sync_orders(order_ids=[order.pk], event="order_import")
    assert change.product_ids == {phone.pk, case.pk}

    ship(order, quantities={order.lines.get(sku="IPH13").pk: 1})
    assert stock_sync_orders(order_ids=[order.pk], event="shipment").product_ids == frozenset()  # nothing left to do
    assert stock_available(merchant=merchant, product_ids=[phone.pk, case.pk]) == {phone.pk: 4, case.pk: 4}


def test_manual_adjustments_change_or_count_on_hand_and_are_recorded(merchant, owner, warehouse):
    phone = make_product(merchant, "IPH13")
    assert stock_adjust(product=phone, change=5, actor=owner, note="delivery").product_ids == {phone.pk}
    stock_adjust(product=phone, on_hand=3, actor=owner, note="stock take")
    stock_adjust(product=phone, on_hand=3)  # same count: nothing to record

    assert stock(phone) == (3, 0, 3)
    movements = list(StockMovement.objects.filter(product=phone).order_by("id"))
    assert [(m.on_hand_change, m.on_hand_after, m.note, m.reason) for m in movements] == [
        (5, 5, "delivery", Reason.MANUAL_ADJUSTMENT),
        (-2, 3, "stock take", Reason.MANUAL_ADJUSTMENT),
    ]
    assert movements[0].warehouse == warehouse and movements[0].actor == owner
    with pytest.raises(ApplicationError):
        stock_adjust(product=phone, on_hand=-1)
    with pytest.raises(ApplicationError):
        stock_adjust(product=phone)


def test_stock_without_any_warehouse_lives_on_one_level(store, merchant):
    phone = make_product(merchant, "IPH13", on_hand=4)
    order = import_one(store, ext_order("1", ("IPH13", 1)))
    ship(order)
    [level] = StockLevel.objects.filter(product=phone)
    assert (level.warehouse, level.on_hand, level.allocated) == (None, 3, 0)


def test_allocation_costs_a_constant_number_of_queries_per_page(store, merchant, warehouse):
    for sku in ("A", "B", "C"):
        make_product(merchant, sku, on_hand=1000)

    def page(first: int, size: int) -> list[int]:
        orders = [ext_order(str(n), ("A", 1), ("B", 2), ("C", 1)) for n in range(first, first + size)]
        return [r.order_id for r in import_page(store, *orders)]

    # (SQLite splits an INSERT of more than 999 parameters, so the large page stays below that.)
    small, large = page(0, 3), page(100, 25)
    counts = []
    for ids in (small, large):
        Allocation.objects.filter(order_line__order_id__in=ids).delete()
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            stock_sync_orders(order_ids=ids, event="order_import")
        counts.append(len(statements(queries)))
    assert counts[0] == counts[1] == 12, counts  # the 12th asks which stores sync listings

    with CaptureQueriesContext(connection) as queries, transaction.atomic():  # nothing to change: reads only
        stock_sync_orders(order_ids=large, event="order_import")
    assert len(statements(queries)) == 6  # catalog?, orders, lines, products, shipments, allocations


def test_a_merchant_without_a_catalog_pays_one_query(store):
    order = import_one(store, ext_order("1", ("IPH13", 1)))
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        stock_sync_orders(order_ids=[order.pk], event="order_import")
    assert len(statements(queries)) == 1
