"""Every page needs a login, and a user of one merchant never reads or changes another's data."""

import pytest
from django.urls import reverse

from channels.models import SyncIssue
from channels.services.order_import_run import order_import_run
from orders.models import Order
from tests.conftest import fake_order
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(store, market):
    """Merchant A's order, store and open issue."""
    market.put(fake_order("1"))
    market.put(fake_order("2", ship_to=None))
    order_import_run(store_id=store.pk)
    return {"order": Order.objects.get(), "store": store, "issue": SyncIssue.objects.get()}


def pages(objs):
    return [
        ("get", reverse("home")),
        ("get", reverse("order-detail", args=[objs["order"].pk])),
        ("get", reverse("store-list")),
        ("get", reverse("store-detail", args=[objs["store"].pk])),
        ("post", reverse("store-sync", args=[objs["store"].pk])),
        ("post", reverse("sync-issue-retry", args=[objs["issue"].pk])),
    ]


def test_every_page_needs_a_login(client, theirs):
    for method, url in pages(theirs):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_login_page_is_public(client):
    assert client.get(reverse("login")).status_code == 200


def test_another_merchants_user_sees_nothing_and_changes_nothing(client, theirs):
    intruder = MembershipFactory().user  # a different merchant
    client.force_login(intruder)

    for method, url in pages(theirs)[1:]:
        if url == reverse("store-list"):
            continue
        response = getattr(client, method)(url)
        assert response.status_code == 404, url

    home = client.get(reverse("home") + "?status=all")
    assert theirs["order"].order_number not in home.content.decode()
    stores = client.get(reverse("store-list"))
    assert theirs["store"].name not in stores.content.decode()
    theirs["issue"].refresh_from_db()
    assert theirs["issue"].occurrences == 1 and theirs["issue"].status == "open"


def test_a_login_without_merchant_is_refused(client, theirs):
    client.force_login(UserFactory())
    for method, url in pages(theirs):
        assert getattr(client, method)(url).status_code == 403, url


def test_owner_sees_own_orders_and_store(client, theirs, owner):
    client.force_login(owner)
    home = client.get(reverse("home")).content.decode()
    assert theirs["order"].order_number in home
    detail = client.get(reverse("order-detail", args=[theirs["order"].pk])).content.decode()
    assert "Łódź" in detail and "IPH13-128" in detail
    store_page = client.get(reverse("store-detail", args=[theirs["store"].pk])).content.decode()
    assert "has no ship-to address" in store_page  # the open issue, with a retry button
    assert reverse("sync-issue-retry", args=[theirs["issue"].pk]) in store_page


def test_logout_needs_post_and_ends_the_session(client, owner):
    client.force_login(owner)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_failed_marketplace_update_is_shown_on_the_order_with_retry(client, theirs, owner, market):
    from channels.services.outbox_delivery import outbox_deliver
    from orders.models import OutboxMessage
    from shipping.core.errors import RemoteRejected

    message = OutboxMessage.objects.get(order=theirs["order"])
    market.fail_outbound["acknowledge"] = RemoteRejected("order is cancelled", status_code=400)
    outbox_deliver(message_id=message.pk)
    url = reverse("order-detail", args=[theirs["order"].pk])
    retry = reverse("outbox-message-action", args=[theirs["order"].pk, message.pk, "retry"])

    intruder = MembershipFactory().user
    client.force_login(intruder)
    assert client.post(retry).status_code == 404
    message.refresh_from_db()
    assert message.status == "failed"

    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "order is cancelled" in page and retry in page
    client.post(retry)
    message.refresh_from_db()
    assert message.status == "pending"


def test_order_page_shows_which_line_each_imei_from_internal_notes_went_to(client, theirs, owner):
    Order.objects.filter(pk=theirs["order"].pk).update(internal_notes="IMEI 490154203237518 ok")
    client.force_login(owner)
    page = client.get(reverse("order-detail", args=[theirs["order"].pk])).content.decode()
    assert "490154203237518 <small>(from Internal Notes)</small>" in page
