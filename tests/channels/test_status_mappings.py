import pytest

from channels.services.status_mappings import status_mapping_lists, status_mappings_replace
from channels.services.stores import store_connect
from shipping.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_listing_mirror_defaults_as_five_comma_lists_and_editing_them(merchant):
    store = store_connect(
        merchant=merchant,
        kind="listing_mirror",
        check=False,
        options={"url": "https://lm.example.com/ss", "username": "u", "password": "p"},
    )
    assert status_mapping_lists(store=store) == {
        "awaiting_payment": "Unpaid",
        "awaiting_shipment": "Paid",
        "on_hold": "Hold",
        "shipped": "Shipped",
        "cancelled": "Cancelled",
    }

    status_mappings_replace(
        store=store,
        lists={
            "awaiting_payment": "Unpaid",
            "awaiting_shipment": "Paid, Ready to ship",
            "on_hold": "Hold, disputed",
            "shipped": "Shipped",
            "cancelled": "Cancelled, refunded",
        },
    )

    assert dict(store.status_mappings.values_list("external_status", "status"))["Ready to ship"] == (
        "awaiting_shipment"
    )
    assert status_mapping_lists(store=store)["on_hold"] == "Hold, disputed"


def test_a_value_under_two_statuses_is_refused(merchant):
    store = store_connect(
        merchant=merchant,
        kind="custom_store",
        check=False,
        options={"url": "https://shop.example.com/ss", "username": "u", "password": "p"},
    )
    before = status_mapping_lists(store=store)
    with pytest.raises(ApplicationError) as info:
        status_mappings_replace(store=store, lists={"awaiting_shipment": "Paid", "shipped": "Paid"})
    assert "already mapped" in info.value.field_errors["shipped"][0]
    assert status_mapping_lists(store=store) == before  # values are case-sensitive and nothing changed
    assert before["awaiting_shipment"] == "Processing"
