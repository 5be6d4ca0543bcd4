"""Connecting a store and its settings page: live credential check, owners only, field errors in place."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from channels.backmarket.sandbox import BackMarketSandbox
from channels.models import Store
from shipping.accounts.models import Role
from tests.factories import MembershipFactory, StoreFactory

pytestmark = pytest.mark.django_db
TOKEN = "c2FuZGJveDp2aWV3cw=="


@pytest.fixture
def sandbox():
    with BackMarketSandbox(token=TOKEN, seed=2, orders=3) as server:
        yield server


def test_connect_back_market_wrong_token_then_right_one(client_owner, sandbox, django_capture_on_commit_callbacks):
    url = reverse("store-connect", args=["back_market"])
    form = {"name": "BM EU", "region": "custom", "base_url": sandbox.base_url, "market": "fr-fr", "token": "wrong"}

    page = client_owner.post(url, form)

    assert page.status_code == 200
    assert "Back Market refused these credentials" in page.content.decode()
    assert "Options → Integrations" in page.content.decode()
    assert not Store.objects.exists()

    with django_capture_on_commit_callbacks():
        response = client_owner.post(url, {**form, "token": TOKEN})
    store = Store.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("store-settings", args=[store.pk])
    assert store.credentials == {"token": TOKEN}
    settings_page = client_owner.get(response["Location"]).content.decode()
    assert TOKEN not in settings_page  # secrets are never shown back


def test_bad_fields_are_shown_in_place(client_owner):
    page = client_owner.post(reverse("store-connect", args=["back_market"]), {"region": "custom", "token": "x"})
    assert page.status_code == 200
    assert "A custom region needs its base URL." in page.content.decode()


def test_settings_status_lists_and_logo_checks(client_owner, merchant):
    store = StoreFactory(
        merchant=merchant,
        kind="listing_mirror",
        config={"url": "https://lm.example.com/x", "username": "u"},
        credentials={"password": "p"},
    )
    url = reverse("store-settings", args=[store.pk])
    lists = {
        "action": "statuses",
        "awaiting_payment": "Unpaid",
        "awaiting_shipment": "Paid, Ready",
        "on_hold": "Hold",
        "shipped": "Shipped",
        "cancelled": "Cancelled",
    }
    assert client_owner.post(url, lists).status_code == 302
    assert store.status_mappings.get(external_status="Ready").status == "awaiting_shipment"

    bad = client_owner.post(url, {**lists, "shipped": "Paid"})
    assert "already mapped" in bad.content.decode()

    not_an_image = SimpleUploadedFile("logo.png", b"<?php evil ?>", content_type="image/png")
    settings_form = {
        "action": "settings",
        "name": store.name,
        "company_name": "Acme",
        "import_interval_minutes": 5,
        "notify_customer_on_shipment": "on",
        "auto_accept": "on",
    }
    page = client_owner.post(url, {**settings_form, "logo": not_an_image})
    assert "not an image we can read" in page.content.decode()
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(png, "PNG")
    good = SimpleUploadedFile("logo.png", png.getvalue(), content_type="image/png")
    assert client_owner.post(url, {**settings_form, "logo": good}).status_code == 302
    store.refresh_from_db()
    assert store.company_name == "Acme" and store.logo.name.endswith(".png")


def test_warehouse_and_staff_cannot_open_settings_or_connect(client, merchant):
    store = StoreFactory(merchant=merchant)
    for role in (Role.WAREHOUSE, Role.STAFF):
        client.force_login(MembershipFactory(merchant=merchant, role=role).user)
        assert client.get(reverse("store-settings", args=[store.pk])).status_code == 403
        assert client.get(reverse("store-connect-choose")).status_code == 403


def test_another_merchants_owner_gets_404_on_settings(client, merchant):
    store = StoreFactory(merchant=merchant)
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("store-settings", args=[store.pk])).status_code == 404
    assert client.post(reverse("store-settings", args=[store.pk]), {"action": "deactivate"}).status_code == 404
    store.refresh_from_db()
    assert store.is_active


def test_connect_tiles_and_form_name_the_channel(client_owner):
    page = client_owner.get("/stores/connect/").content.decode()
    for label in ("Back Market", "Listing Mirror", "Custom Store"):
        assert f"<h2>{label}</h2>" in page
        assert f"Connect {label}</a>" in page
    form = client_owner.get("/stores/connect/back_market/").content.decode()
    assert "<h1>Connect Back Market</h1>" in form
