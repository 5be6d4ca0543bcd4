"""Tags: the services (scoped, idempotent), imports never touching them, chips on the grid and the order page."""

import re
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.base import Address, ExternalOrder, ExternalOrderLine
from channels.services.order_import_run import order_import_run
from orders.models import Order, Tag
from orders.models.tag import relative_luminance, text_color_on
from orders.services.order_import import ImportItem, orders_upsert_from_channel
from orders.services.tags import order_tag_add, order_tag_remove, order_tags_set, tag_create, tags_for_ids
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError
from tests.conftest import fake_order
from tests.factories import MembershipFactory, MerchantFactory, StoreFactory
from tests.orders.test_grid_pagination import seed
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db


def tag_ids(order: Order) -> list[int]:
    return sorted(Order.objects.get(pk=order.pk).tags.values_list("pk", flat=True))


# --- services -------------------------------------------------------------------------------------


def test_tag_create_cleans_and_keeps_names_unique_whatever_their_case(merchant):
    tag = tag_create(merchant=merchant, name="  Rush   order ", color="#ff8800")
    assert (tag.name, tag.color, tag.merchant) == ("Rush order", "#FF8800", merchant)
    with pytest.raises(ApplicationError) as exc:
        tag_create(merchant=merchant, name="RUSH ORDER", color="#000000")
    assert "name" in exc.value.field_errors
    assert tag_create(merchant=MerchantFactory(), name="Rush order", color="#000000").pk != tag.pk
    assert Tag.objects.filter(merchant=merchant).count() == 1


def test_the_database_refuses_a_duplicate_name_too(merchant):
    tag_create(merchant=merchant, name="Fragile", color="#000000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(merchant=merchant, name="fragile", color="#000000")


@pytest.mark.parametrize(
    ("name", "color", "field"),
    [("", "#000000", "name"), ("x" * 101, "#000000", "name"), ("Ok", "red", "color"), ("Ok", "#FFF", "color")],
)
def test_tag_create_refuses_bad_values(merchant, name, color, field):
    with pytest.raises(ApplicationError) as exc:
        tag_create(merchant=merchant, name=name, color=color)
    assert field in exc.value.field_errors
    assert not Tag.objects.exists()


def test_add_and_remove_are_idempotent_and_scoped(merchant, store):
    order = make_order(store, ("IPH13", 1))
    tag = tag_create(merchant=merchant, name="VIP", color="#800080")
    before = Order.objects.get(pk=order.pk).updated_at

    assert order_tag_add(merchant=merchant, order_id=order.pk, tag_id=tag.pk) is True
    assert order_tag_add(merchant=merchant, order_id=order.pk, tag_id=tag.pk) is False
    assert tag_ids(order) == [tag.pk] and Order.objects.get(pk=order.pk).updated_at > before
    assert order_tag_remove(merchant=merchant, order_id=order.pk, tag_id=tag.pk) is True
    assert order_tag_remove(merchant=merchant, order_id=order.pk, tag_id=tag.pk) is False
    assert tag_ids(order) == []

    stranger = MerchantFactory()
    their_tag = tag_create(merchant=stranger, name="VIP", color="#000000")
    their_order = make_order(StoreFactory(merchant=stranger), ("X", 1), external_id="9")
    cases = [
        (merchant, order.pk, their_tag.pk, "tag_id"),  # my order, their tag
        (merchant, their_order.pk, tag.pk, "order_id"),  # their order, my tag
        (stranger, order.pk, their_tag.pk, "order_id"),  # their key on my order
        (merchant, order.pk, 987654, "tag_id"),
    ]
    for service in (order_tag_add, order_tag_remove):
        for who, order_id, tag_id, field in cases:
            with pytest.raises(ApplicationError) as exc:
                service(merchant=who, order_id=order_id, tag_id=tag_id)
            assert field in exc.value.field_errors
    assert tag_ids(order) == [] and tag_ids(their_order) == []


def test_tags_for_ids_and_order_tags_set(merchant, store):
    order = make_order(store, ("IPH13", 1))
    a = tag_create(merchant=merchant, name="A", color="#000000")
    b = tag_create(merchant=merchant, name="B", color="#FFFFFF")
    foreign = tag_create(merchant=MerchantFactory(), name="C", color="#000000")
    assert tags_for_ids(merchant=merchant, tag_ids=[b.pk, a.pk, b.pk]) == [b, a]
    with pytest.raises(ApplicationError) as exc:
        tags_for_ids(merchant=merchant, tag_ids=[a.pk, foreign.pk])
    assert "tag_ids" in exc.value.field_errors and str(foreign.pk) in exc.value.message
    assert order_tags_set(order=order, tags=[a, b]) is True
    assert order_tags_set(order=order, tags=[b, a]) is False
    with pytest.raises(ApplicationError):
        order_tags_set(order=order, tags=[foreign])
    assert tag_ids(order) == sorted([a.pk, b.pk])
    assert order_tags_set(order=order, tags=[]) is True and tag_ids(order) == []


# --- imports never touch tags ---------------------------------------------------------------------


def test_a_reimport_keeps_the_tags(merchant, store, market):
    market.put(fake_order("1", minutes_ago=30))
    order_import_run(store_id=store.pk)
    order = Order.objects.get()
    vip = tag_create(merchant=merchant, name="VIP", color="#800080")
    order_tag_add(merchant=merchant, order_id=order.pk, tag_id=vip.pk)

    changed = fake_order("1", minutes_ago=1, customer={"name": "Anna Nowak", "email": "anna@example.com"})
    changed["lines"].append({"id": "1-2", "sku": "CASE", "name": "Case", "qty": 1, "price": "9.00"})
    market.put(changed)
    order_import_run(store_id=store.pk)

    order.refresh_from_db()
    assert order.customer_name == "Anna Nowak" and order.lines.count() == 2  # the import did update it
    assert tag_ids(order) == [vip.pk]


def _external(external_id: str, quantity: int, status: str = "1") -> ExternalOrder:
    return ExternalOrder(
        external_id=external_id,
        order_number=f"N{external_id}",
        external_status=status,
        order_date=datetime(2026, 3, 1, tzinfo=UTC),
        updated_at=datetime(2026, 3, 2, tzinfo=UTC),
        ship_to=Address(name="A", street1="1 Rue", city="Paris", country="FR"),
        lines=(ExternalOrderLine(external_line_id="1", sku="IPH13", name="IPH13", quantity=quantity, unit_price=1),),
    )


def test_a_forced_reimport_and_a_cancel_from_the_channel_keep_the_tags(merchant, store):
    order = make_order(store, ("IPH13", 1), external_id="7")
    vip = tag_create(merchant=merchant, name="VIP", color="#800080")
    order_tag_add(merchant=merchant, order_id=order.pk, tag_id=vip.pk)

    with transaction.atomic():
        orders_upsert_from_channel(store=store, items=[ImportItem(_external("7", 2), "awaiting_shipment")], force=True)
    assert Order.objects.get(pk=order.pk).lines.get().quantity == 2 and tag_ids(order) == [vip.pk]

    with transaction.atomic():
        orders_upsert_from_channel(store=store, items=[ImportItem(_external("7", 2, "9"), "cancelled")], force=True)
    assert Order.objects.get(pk=order.pk).status == "cancelled" and tag_ids(order) == [vip.pk]


# --- chips: colour and contrast ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("color", "text"),
    [
        ("#FFFFFF", "#000000"),
        ("#FFFF00", "#000000"),
        ("#FF0000", "#000000"),
        ("#9E9E9E", "#000000"),
        ("#000000", "#FFFFFF"),
        ("#0000FF", "#FFFFFF"),
        ("#800080", "#FFFFFF"),
        ("#0B5CAD", "#FFFFFF"),
    ],
)
def test_chip_text_is_black_or_white_by_luminance(color, text):
    assert text_color_on(color) == text


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_chosen_text_colour_always_reaches_wcag_aa():
    for value in range(0, 0x1000000, 0x10203):  # ~8000 colours across the cube
        color = f"#{value:06X}"
        assert _contrast(color, text_color_on(color)) >= 4.5, color


def test_a_tag_with_a_colour_that_is_not_rrggbb_paints_grey(merchant):
    tag = Tag(merchant=merchant, name="Odd", color="red; background-image: url(x)")
    assert tag.chip_color == "#9E9E9E" and tag.text_color == "#000000"


# --- the grid and the order page ----------------------------------------------------------------------


def chips(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<span class="tag-chip" style="background-color: (#\w+); color: (#\w+)">([^<]+)', html)


def test_the_grid_shows_chips_next_to_the_order_number(client_owner, merchant, store):
    [order] = seed(store, 1)
    navy = tag_create(merchant=merchant, name="Navy", color="#000080")
    lemon = tag_create(merchant=merchant, name="Lemon", color="#FFF44F")
    for tag in (navy, lemon):
        order_tag_add(merchant=merchant, order_id=order.pk, tag_id=tag.pk)
    page = client_owner.get(reverse("home"), {"status": "all"}).content.decode()
    assert chips(page) == [("#FFF44F", "#000000", "Lemon"), ("#000080", "#FFFFFF", "Navy")]
    row = re.search(rf'<a href="/orders/{order.pk}/">{order.order_number}</a>(.*?)</td>', page, re.S).group(1)
    assert "Lemon" in row and "Navy" in row
    assert "tag_remove" not in page  # no forms inside the grid's bulk form


def test_the_grid_is_a_constant_number_of_queries_with_tags(client_owner, merchant, store):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client_owner.get(reverse("home"), {"status": "all"}).status_code == 200
        return len(ctx.captured_queries)

    tags = [tag_create(merchant=merchant, name=f"T{n}", color="#123456") for n in range(3)]
    [first] = seed(store, 1)
    order_tag_add(merchant=merchant, order_id=first.pk, tag_id=tags[0].pk)
    one = queries()
    for order in seed(store, 49, first=1):
        Order.tags.through.objects.bulk_create(Order.tags.through(order_id=order.pk, tag_id=t.pk) for t in tags)
    assert queries() == one


def test_the_order_page_shows_chips_and_costs_the_same_with_more_tags(client_owner, merchant, store):
    order = make_order(store, ("IPH13", 1))

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client_owner.get(reverse("order-detail", args=[order.pk]))
        assert response.status_code == 200
        return response.content.decode(), len(ctx.captured_queries)

    red = tag_create(merchant=merchant, name="Red", color="#CC0000")
    order_tag_add(merchant=merchant, order_id=order.pk, tag_id=red.pk)
    html, one = page()
    assert chips(html) == [("#CC0000", "#FFFFFF", "Red")]
    assert 'aria-label="Remove tag Red"' in html
    for n in range(5):
        tag = tag_create(merchant=merchant, name=f"More {n}", color="#EEEEEE")
        order_tag_add(merchant=merchant, order_id=order.pk, tag_id=tag.pk)
    html, six = page()
    assert len(chips(html)) == 6 and six == one


def post(client, order, **data):
    return client.post(reverse("order-detail", args=[order.pk]), data)


def test_owners_and_staff_add_and_remove_tags_on_the_order_page(client, merchant, store):
    order = make_order(store, ("IPH13", 1))
    vip = tag_create(merchant=merchant, name="VIP", color="#800080")
    for role in (Role.OWNER, Role.STAFF):
        client.force_login(MembershipFactory(merchant=merchant, role=role).user)
        assert post(client, order, action="tag_add", tag=vip.pk).status_code == 302
        assert post(client, order, action="tag_add", tag=vip.pk).status_code == 302  # idempotent
        assert tag_ids(order) == [vip.pk]
        assert post(client, order, action="tag_remove", tag=vip.pk).status_code == 302
        assert tag_ids(order) == []

    response = post(client, order, action="tag_add", new_tag_name="Rush", new_tag_color="#ff8800")
    assert response.status_code == 302
    rush = Tag.objects.get(merchant=merchant, name="Rush")
    assert rush.color == "#FF8800" and tag_ids(order) == [rush.pk]

    page = post(client, order, action="tag_add", new_tag_name="rush", new_tag_color="#000000").content.decode()
    assert "There is a tag named" in page and Tag.objects.filter(merchant=merchant).count() == 2
    page = post(client, order, action="tag_add", tag="").content.decode()
    assert "Choose a tag, or name a new one." in page


def test_warehouse_users_see_chips_but_cannot_change_tags(client, merchant, store):
    order = make_order(store, ("IPH13", 1))
    vip = tag_create(merchant=merchant, name="VIP", color="#800080")
    order_tag_add(merchant=merchant, order_id=order.pk, tag_id=vip.pk)
    client.force_login(MembershipFactory(merchant=merchant, role=Role.WAREHOUSE).user)
    html = client.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert chips(html) == [("#800080", "#FFFFFF", "VIP")] and "tag_remove" not in html and "tag_add" not in html
    assert post(client, order, action="tag_remove", tag=vip.pk).status_code == 403
    assert post(client, order, action="tag_add", new_tag_name="Mine").status_code == 403
    assert tag_ids(order) == [vip.pk] and Tag.objects.count() == 1


def test_another_merchants_tag_or_user_changes_nothing(client, client_owner, merchant, store):
    order = make_order(store, ("IPH13", 1))
    theirs = tag_create(merchant=MerchantFactory(), name="Theirs", color="#000000")
    page = post(client_owner, order, action="tag_add", tag=theirs.pk).content.decode()
    assert "There is no tag" in page and tag_ids(order) == []

    mine = tag_create(merchant=merchant, name="Mine", color="#000000")
    client.force_login(MembershipFactory().user)  # a user of another merchant
    assert post(client, order, action="tag_add", tag=mine.pk).status_code == 404
    assert tag_ids(order) == []
