"""The Back Market client against mocked HTTP: headers, paging, and every error class."""

from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from channels.backmarket.adapter import BackMarketAdapter
from channels.backmarket.client import BackMarketClient, error_message
from channels.base import AdapterContext, ChannelAuthError, ChannelRateLimited, ChannelRejected, ChannelUnavailable

BASE = "https://www.backmarket.fr"
TOKEN = "YmFja21hcmtldDpzZWNyZXQ="


def client(**kw) -> BackMarketClient:
    return BackMarketClient(
        base_url=BASE, token=TOKEN, market="fr-fr", company="Acme Refurb", contact_email="ops@acme.example", **kw
    )


def page(results, next_url=None):
    return {"count": len(results), "next": next_url, "previous": None, "results": results}


@responses.activate
def test_headers_and_hyphenated_page_size():
    responses.get(
        f"{BASE}/ws/orders",
        json=page([]),
        match=[
            matchers.query_param_matcher({"page-size": "50", "date_modification": "2026-03-01T10:00:00Z"}),
            matchers.header_matcher(
                {
                    "Authorization": f"Basic {TOKEN}",  # verbatim, not re-encoded
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "Accept-Language": "fr-fr",
                    "User-Agent": "BM-AcmeRefurb-Shipping;ops@acme.example",
                }
            ),
        ],
    )
    client().list_orders(modified_since=datetime(2026, 3, 1, 10, 0, tzinfo=UTC))


@responses.activate
def test_adapter_follows_next_until_null_and_quarantines_bad_records():
    good = {
        "order_id": 1,
        "state": 1,
        "date_creation": "2026-03-01T10:00:00Z",
        "price": "10.00",
        "shipping_address": {"first_name": "A", "street": "1 Rue", "city": "Paris", "country": "FR"},
        "orderlines": [{"id": 11, "state": 1, "listing": "SKU", "quantity": 1, "price": "10.00"}],
    }
    responses.get(
        f"{BASE}/ws/orders",
        json=page([good, {"order_id": 2, "orderlines": None}], f"{BASE}/ws/orders?page=2&page-size=50"),
        match=[matchers.query_param_matcher({"page-size": "50", "date_modification": "2026-03-01T00:00:00Z"})],
    )
    responses.get(
        f"{BASE}/ws/orders",
        json=page([{**good, "order_id": 3}]),
        match=[matchers.query_param_matcher({"page": "2", "page-size": "50"})],
    )
    adapter = BackMarketAdapter(
        AdapterContext(
            settings={"region": "eu", "token": TOKEN},
            store_key="s",
            merchant_name="Acme",
            merchant_email="ops@acme.example",
        )
    )
    since, until = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)

    first = adapter.fetch_orders(updated_since=since, updated_until=until)
    second = adapter.fetch_orders(updated_since=since, updated_until=until, cursor=first.next_cursor)

    assert [o.external_id for o in first.orders] == ["1"]
    assert [(f.external_id, f.message) for f in first.failures] == [("2", "order 2: orderlines is not a list")]
    assert first.next_cursor == f"{BASE}/ws/orders?page=2&page-size=50"
    assert [o.external_id for o in second.orders] == ["3"] and second.next_cursor is None


@responses.activate
def test_next_link_to_another_host_is_refused():
    with pytest.raises(Exception, match="another host"):
        client().list_orders(next_url="https://evil.example/ws/orders?page=2")
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_says_where_to_make_a_new_one(status):
    responses.get(f"{BASE}/ws/orders", json={"detail": "Invalid token"}, status=status)
    with pytest.raises(ChannelAuthError, match="Options → Integrations"):
        client().list_orders()


@responses.activate
def test_cloudflare_html_403_is_a_firewall_block_not_a_bad_token():
    responses.get(
        f"{BASE}/ws/orders",
        body="<html>Attention Required! | Cloudflare</html>",
        status=403,
        content_type="text/html",
        headers={"server": "cloudflare", "cf-ray": "8a1b2c3d4e5f-CDG"},
    )
    with pytest.raises(ChannelUnavailable, match="cf-ray 8a1b2c3d4e5f-CDG") as info:
        client().list_orders()
    assert not info.value.ambiguous


@responses.activate
def test_json_bot_challenge_403_is_a_firewall_block():
    responses.get(
        f"{BASE}/ws/orders",
        status=403,
        json={"errors": [{"code": "bot-need-challenge", "message": "Forbidden", "challengePath": "/x"}]},
    )
    with pytest.raises(ChannelUnavailable, match="firewall"):
        client().list_orders()


@responses.activate
def test_429_backs_off_at_least_ten_seconds():
    responses.get(f"{BASE}/ws/orders", status=429, json={"error": {"code": "RateLimited", "message": "Too many"}})
    with pytest.raises(ChannelRateLimited) as info:
        client().list_orders()
    assert 10 <= info.value.retry_after <= 15


@responses.activate
def test_5xx_on_a_read_is_retried_then_unavailable():
    responses.get(f"{BASE}/ws/orders/1", status=503)
    with pytest.raises(ChannelUnavailable):
        client().get_order("1")
    assert len(responses.calls) > 1  # GET is idempotent: the transport retried


@responses.activate
def test_5xx_on_a_write_is_not_resent_and_is_ambiguous():
    responses.post(f"{BASE}/ws/orders/1", status=502)
    with pytest.raises(ChannelUnavailable) as info:
        client().update_order("1", {"new_state": 2, "sku": "A"})
    assert len(responses.calls) == 1 and info.value.ambiguous


@responses.activate
def test_timeout_is_unavailable():
    responses.get(f"{BASE}/ws/orders/1", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ChannelUnavailable):
        client().get_order("1")


@responses.activate
def test_400_message_is_kept_verbatim():
    responses.post(
        f"{BASE}/ws/orders/1", status=400, body='"new_state 9 must be in 2,3,4,5,6"', content_type="application/json"
    )
    with pytest.raises(ChannelRejected) as info:
        client().update_order("1", {"new_state": 9})
    assert error_message(info.value) == "new_state 9 must be in 2,3,4,5,6"
    assert responses.calls[0].request.body == b'{"order_id": 1, "new_state": 9}'


def test_custom_region_needs_a_base_url():
    assert BackMarketAdapter.validate_settings({"region": "custom"}) == {
        "base_url": ["A custom region needs its base URL."]
    }
    assert BackMarketAdapter.validate_settings({"region": "eu"}) == {}
