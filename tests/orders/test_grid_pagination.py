"""The orders grid: sortable columns and keyset (cursor) pages, as a user clicking through sees them."""

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, OrderLine
from tests.factories import MembershipFactory, StoreFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def seed(store, count: int, *, first: int = 0, days: int = 3, at: datetime = START, **fields) -> list[Order]:
    """`count` orders over only `days` distinct order dates, so page edges fall inside ties."""
    orders = Order.objects.bulk_create(
        Order(
            merchant_id=store.merchant_id,
            store=store,
            external_id=f"{store.pk}-{n}",
            order_number=f"N{n:04d}",
            order_date=at - timedelta(days=n % days),
            customer_name=f"Customer {n % 7:02d}",
            order_total=Decimal(n % 5) + Decimal("0.50"),
            **fields,
        )
        for n in range(first, first + count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, external_line_id="1", sku=f"SKU-{order.order_number}", name="Phone", quantity=1)
        for order in orders
    )
    return orders


def shown(response) -> list[int]:
    """Order ids in the rows, top to bottom."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<a href="/orders/(\d+)/">', response.content.decode())]


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', response.content.decode())
    return reverse("home") + html.unescape(found.group(1)) if found else None


def walk(client, params: dict, rel: str = "next", start: str | None = None) -> list[list[int]]:
    """Follow Next (or Previous) links from a page to the end: the ids of each page."""
    response = client.get(start) if start else client.get(reverse("home"), params)
    pages = [shown(response)]
    while url := link(response, rel):
        response = client.get(url)
        pages.append(shown(response))
        assert len(pages) < 50, "the pager loops"
    return pages


def expected(orders, key, reverse_order=False) -> list[int]:
    return [o.pk for o in sorted(orders, key=lambda o: (key(o), o.pk), reverse=reverse_order)]


SORTS = {
    "-order_date": (lambda o: o.order_date, True),
    "order_date": (lambda o: o.order_date, False),
    "order_number": (lambda o: o.order_number, False),
    "-customer": (lambda o: o.customer_name, True),
    "total": (lambda o: o.order_total, False),
    "-total": (lambda o: o.order_total, True),
    "store": (lambda o: o.store.name, False),
}


@pytest.fixture
def two_stores(merchant, store):
    other = StoreFactory(merchant=merchant, name="Alpha shop")
    return seed(store, 70) + seed(other, 50, first=70)


@pytest.mark.parametrize("sort", SORTS)
def test_next_walks_every_order_once_in_order_and_previous_walks_back(client_owner, two_stores, sort):
    key, descending = SORTS[sort]
    pages = walk(client_owner, {"status": "all", "sort": sort})
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [pk for page in pages for pk in page] == expected(two_stores, key, descending)

    last = walk(client_owner, {"status": "all", "sort": sort})  # same again: deterministic
    assert last == pages
    response = client_owner.get(reverse("home"), {"status": "all", "sort": sort})
    for _ in range(2):
        response = client_owner.get(link(response, "next"))
    assert "Page 3" in response.content.decode() and link(response, "next") is None
    back = walk(client_owner, {}, rel="prev", start=link(response, "prev"))
    assert back == pages[1::-1]


def test_default_is_newest_first_and_sorting_changes_what_is_shown(client_owner, two_stores):
    newest = shown(client_owner.get(reverse("home"), {"status": "all"}))
    assert newest == expected(two_stores, lambda o: o.order_date, True)[:50]
    by_number = shown(client_owner.get(reverse("home"), {"status": "all", "sort": "order_number"}))
    assert by_number == expected(two_stores, lambda o: o.order_number)[:50]
    assert by_number != newest


def test_clicking_a_header_twice_reverses_it_and_the_header_says_so(client_owner, two_stores):
    page = client_owner.get(reverse("home"), {"status": "all"}).content.decode()
    assert re.search(r'<th scope="col" aria-sort="descending">\s*<a href="[^"]*sort=order_date">Date', page)
    assert '<th scope="col" aria-sort' not in page.replace('aria-sort="descending">', "", 1)
    assert 'sort=order_number">Order</a>' in page and 'sort=-total">Total</a>' in page

    page = client_owner.get(reverse("home"), {"status": "all", "sort": "order_number"}).content.decode()
    assert re.search(
        r'aria-sort="ascending">\s*<a href="[^"]*sort=-order_number">Order <span aria-hidden="true">▲', page
    )
    page = client_owner.get(reverse("home"), {"status": "all", "sort": "-order_number"}).content.decode()
    assert re.search(
        r'aria-sort="descending">\s*<a href="[^"]*sort=order_number">Order <span aria-hidden="true">▼', page
    )


def test_status_sorts_only_on_the_all_tab(client_owner, two_stores):
    assert 'sort=status">Status' in client_owner.get(reverse("home"), {"status": "all"}).content.decode()
    assert 'sort=status"' not in client_owner.get(reverse("home")).content.decode()
    # Sorted by status on All, then a tab: newest first there, as its Date header says.
    page = client_owner.get(reverse("home"), {"status": "awaiting_shipment", "sort": "status"})
    assert shown(page) == expected(two_stores, lambda o: o.order_date, True)[:50]
    assert re.search(r'aria-sort="descending">\s*<a href="[^"]*">Date', page.content.decode())


@pytest.mark.parametrize("sort", ["bogus", "-", "--order_date", "store__merchant__name", "id); DROP TABLE x"])
def test_an_unknown_sort_falls_back_to_newest_first(client_owner, two_stores, sort):
    assert (
        shown(client_owner.get(reverse("home"), {"status": "all", "sort": sort}))
        == expected(two_stores, lambda o: o.order_date, True)[:50]
    )


def test_a_tampered_or_foreign_cursor_gives_the_first_page(client_owner, two_stores):
    first = client_owner.get(reverse("home"), {"status": "all"})
    cursor = unquote(re.search(r"cursor=([^&]+)", link(first, "next")).group(1))
    flipped = cursor[:40] + ("A" if cursor[40] != "A" else "B") + cursor[41:]
    for bad in (flipped, "garbage", "", cursor[:-3]):
        assert shown(client_owner.get(reverse("home"), {"status": "all", "cursor": bad})) == shown(first)
    # A cursor made for another sort does not seek into this one.
    by_total = shown(client_owner.get(reverse("home"), {"status": "all", "sort": "total"}))
    assert shown(client_owner.get(reverse("home"), {"status": "all", "sort": "total", "cursor": cursor})) == by_total


def test_filters_sort_and_tab_survive_paging(client_owner, merchant, store):
    other = StoreFactory(merchant=merchant, name="Alpha shop")
    mine = seed(store, 130, customer_email="zofia@example.com")
    seed(other, 60, first=500, customer_email="zofia@example.com")
    seed(store, 40, first=900, status="shipped", customer_email="zofia@example.com")
    params = {"status": "awaiting_shipment", "store": store.pk, "q": "zofia@example.com", "sort": "-total"}

    pages = walk(client_owner, params)
    assert [pk for page in pages for pk in page] == expected(mine, lambda o: o.order_total, True)
    nxt = link(client_owner.get(reverse("home"), params), "next")
    for part in ("status=awaiting_shipment", f"store={store.pk}", "q=zofia%40example.com", "sort=-total"):
        assert part in nxt

    page = client_owner.get(nxt).content.decode()
    tabs = re.findall(r'<a href="\?status=shipped([^"]*)"', page)
    assert tabs and "sort=-total" in tabs[0] and "q=zofia%40example.com" in tabs[0] and "cursor" not in tabs[0]
    assert re.search(r'name="sort" value="-total"', page)  # the filter form keeps the sort too
    first = re.search(r'<a href="([^"]*)">First</a>', page).group(1)
    assert "cursor" not in first and "sort=-total" in first


def test_date_filters_keep_whole_days(client_owner, store):
    orders = seed(store, 9, days=3)  # 1, 2 and 3 March at noon... counting back from START
    day = START.date() - timedelta(days=1)
    ids = shown(client_owner.get(reverse("home"), {"status": "all", "date_from": day, "date_to": day}))
    assert sorted(ids) == sorted(o.pk for o in orders if o.order_date.date() == day)


def test_another_merchants_orders_never_appear(client_owner, two_stores):
    stranger = StoreFactory(name="Theirs")
    theirs = {o.pk for o in seed(stranger, 120, customer_email="zofia@example.com")}
    for params in ({"status": "all"}, {"status": "all", "sort": "store"}, {"q": "zofia@example.com"}):
        assert not theirs & {pk for page in walk(client_owner, params) for pk in page}

    # Their cursor, used by us, still only seeks in our orders.
    client_owner.force_login(MembershipFactory(merchant=stranger.merchant).user)
    their_next = link(client_owner.get(reverse("home"), {"status": "all"}), "next")
    client_owner.force_login(MembershipFactory(merchant=two_stores[0].merchant).user)
    assert not theirs & set(shown(client_owner.get(their_next)))


def test_a_page_neither_counts_nor_offsets(client_owner, two_stores):
    response = client_owner.get(reverse("home"), {"status": "all"})
    with CaptureQueriesContext(connection) as ctx:
        client_owner.get(link(response, "next"))
    sql = [q["sql"].upper() for q in ctx.captured_queries]
    assert not any("OFFSET" in q for q in sql)
    assert [q for q in sql if "COUNT(" in q and "GROUP BY" not in q] == []  # only the tab counts, grouped


def test_page_queries_do_not_grow_with_the_number_of_orders(client_owner, store):
    def queries(params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client_owner.get(reverse("home"), params).status_code == 200
        return len(ctx.captured_queries)

    seed(store, 1)
    one = queries({"status": "all"})
    seed(store, 49, first=1)
    OrderLine.objects.bulk_create(
        OrderLine(order=order, external_line_id="2", sku="B", name="Case", quantity=2) for order in Order.objects.all()
    )
    assert len(shown(client_owner.get(reverse("home"), {"status": "all"}))) == 50
    assert queries({"status": "all"}) == one
    seed(store, 200, first=50)
    response = client_owner.get(reverse("home"), {"status": "all"})
    assert queries({"status": "all"}) == one
    with CaptureQueriesContext(connection) as ctx:
        client_owner.get(link(response, "next"))
    assert len(ctx.captured_queries) == one


def test_orders_arriving_while_paging_neither_repeat_nor_hide_rows(client_owner, store):
    orders = seed(store, 100)
    first = client_owner.get(reverse("home"), {"status": "all"})
    seed(
        store, 30, first=1000, at=START + timedelta(days=30)
    )  # imported meanwhile, newest of all: with OFFSET, page 2 would repeat 30 rows
    second = shown(client_owner.get(link(first, "next")))
    assert shown(first) + second == expected(orders, lambda o: o.order_date, True)
