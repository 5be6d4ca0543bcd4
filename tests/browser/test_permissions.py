"""Who sees what, in the browser: warehouse workers do not reach settings; other merchants get 404."""

import pytest
from playwright.sync_api import expect

from tests.factories import MembershipFactory, StoreFactory
from tests.orders.test_shipments import make_order

from .conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_warehouse_worker_cannot_open_store_settings_team_or_keys(page, live_server, shop):
    merchant, people = shop
    store = StoreFactory(merchant=merchant, kind="manual", name="Phone shop")
    login(page, live_server, people["warehouse"])
    expect(page.get_by_role("link", name="Team and API keys")).to_have_count(0)
    page.get_by_role("link", name="Stores", exact=True).click()
    expect(page.get_by_role("link", name="Connect a store")).to_have_count(0)
    for url in (f"/stores/{store.pk}/settings/", "/team/", "/warehouses/", "/stores/connect/"):
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 403, url


def test_another_merchants_user_gets_404_on_an_order(page, live_server, shop):
    merchant, _people = shop
    order = make_order(StoreFactory(merchant=merchant, kind="manual"), ("IPH13", 1))
    stranger = MembershipFactory(user__username="owner@elsewhere.example").user
    login(page, live_server, stranger)
    for url in (f"/orders/{order.pk}/", f"/orders/{order.pk}/packing-slip.pdf"):
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 404, url
    screenshot(page, "12-other-merchant-404")
