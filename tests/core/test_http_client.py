import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses
from urllib3.exceptions import NewConnectionError, ProtocolError

from shipping.core import http as http_module
from shipping.core.errors import (
    RemoteAuthError,
    RemoteDataError,
    RemoteError,
    RemoteRateLimited,
    RemoteRejected,
    RemoteUnavailable,
)
from shipping.core.http import CallRecord, HttpClient
from shipping.core.ratelimit import RateLimiter
from shipping.core.redaction import REDACTED

BASE = "https://api.example.test/v2"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def records():
    return []


@pytest.fixture
def client(records):
    return HttpClient(base_url=BASE, call_logger=records.append)


# --- transport policy ---------------------------------------------------------------------------


def test_timeout_is_always_passed(mocked, client):
    mocked.get(f"{BASE}/orders", json=[])
    mocked.post(f"{BASE}/orders/1/ship", json={})
    client.request("GET", "/orders")
    client.get_json("orders")
    client.request("POST", "orders/1/ship", json={"carrier": "dhl"})
    assert [call.request.req_kwargs["timeout"] for call in mocked.calls] == [(5.0, 30.0)] * 3
    HttpClient(base_url=BASE, timeout=(2, 9)).request("GET", "orders")
    assert mocked.calls[-1].request.req_kwargs["timeout"] == (2.0, 9.0)


def test_timeout_must_be_a_pair_of_positive_numbers():
    with pytest.raises(ValueError, match="timeout"):
        HttpClient(base_url=BASE, timeout=(0, 30))


def test_paths_join_the_base_url_and_absolute_urls_pass_through(mocked, client):
    mocked.get(f"{BASE}/orders", json=[])
    mocked.get("https://other.example.test/next?page=2", json=[])
    client.request("GET", "orders")
    client.request("GET", "https://other.example.test/next?page=2")
    assert [c.request.url for c in mocked.calls] == [
        f"{BASE}/orders",
        "https://other.example.test/next?page=2",
    ]


def test_get_is_retried_on_503_but_post_is_not(mocked, client):
    mocked.get(f"{BASE}/orders", status=503)
    mocked.get(f"{BASE}/orders", json=[{"id": 1}])
    assert client.get_json("orders") == [{"id": 1}]
    assert len(mocked.calls) == 2

    mocked.post(f"{BASE}/ship", status=503)
    mocked.post(f"{BASE}/ship", json={})
    with pytest.raises(RemoteUnavailable) as info:
        client.request("POST", "ship", json={})
    assert len(mocked.calls) == 3  # the POST went out once
    assert info.value.ambiguous is True
    assert info.value.status_code == 503


def test_get_gives_up_after_three_retries(mocked, client):
    mocked.get(f"{BASE}/orders", status=502)
    with pytest.raises(RemoteUnavailable) as info:
        client.request("GET", "orders")
    assert len(mocked.calls) == 4
    assert info.value.ambiguous is False
    assert info.value.retryable


# --- status mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors(mocked, client, status):
    mocked.get(f"{BASE}/me", status=status, body="invalid token")
    with pytest.raises(RemoteAuthError) as info:
        client.request("GET", "me")
    assert info.value.status_code == status
    assert info.value.message == "invalid token"
    assert not info.value.retryable


def test_429_with_retry_after_seconds(mocked, client):
    mocked.get(f"{BASE}/orders", status=429, headers={"Retry-After": "7"})
    with pytest.raises(RemoteRateLimited) as info:
        client.request("GET", "orders")
    assert info.value.retry_after == 7.0
    assert info.value.status_code == 429
    assert len(mocked.calls) == 1  # not retried in the transport


def test_429_with_retry_after_http_date(mocked, client):
    when = datetime.now(UTC) + timedelta(seconds=120)
    mocked.get(f"{BASE}/orders", status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    with pytest.raises(RemoteRateLimited) as info:
        client.request("GET", "orders")
    assert 115 <= info.value.retry_after <= 120


@pytest.mark.parametrize("header", [None, "soon", "nan"])
def test_429_without_usable_retry_after_uses_the_jittered_default(mocked, client, header):
    mocked.get(f"{BASE}/orders", status=429, headers={"Retry-After": header} if header else {})
    with pytest.raises(RemoteRateLimited) as info:
        client.request("GET", "orders")
    assert 10.0 <= info.value.retry_after <= 15.0


def test_default_retry_after_is_overridable(mocked):
    class Slow(HttpClient):
        def default_retry_after(self):
            return 60.0

    mocked.get(f"{BASE}/orders", status=429)
    with pytest.raises(RemoteRateLimited) as info:
        Slow(base_url=BASE).request("GET", "orders")
    assert info.value.retry_after == 60.0


def test_500_on_get_is_unavailable_not_ambiguous(mocked, client):
    mocked.get(f"{BASE}/orders", status=500, body="<html>oops</html>")
    with pytest.raises(RemoteUnavailable) as info:
        client.request("GET", "orders")
    assert info.value.ambiguous is False
    assert info.value.body == "<html>oops</html>"


def test_400_keeps_the_body_verbatim(mocked, client):
    body = '{"errors": [{"field": "tracking", "message": "Tracking number  is invalid.\\n"}]}\n'
    mocked.put(f"{BASE}/orders/1", status=400, body=body, content_type="application/json")
    with pytest.raises(RemoteRejected) as info:
        client.request("PUT", "orders/1", json={"tracking": "x"})
    assert info.value.message == body
    assert info.value.body == body
    assert info.value.status_code == 400
    assert not info.value.retryable


def test_expected_statuses_are_configurable(mocked, client):
    mocked.get(f"{BASE}/orders/9", status=404)
    assert client.request("GET", "orders/9", expected=(200, 404)).status_code == 404
    mocked.get(f"{BASE}/orders/8", status=204)
    with pytest.raises(RemoteDataError, match="Unexpected response status 204"):
        client.request("GET", "orders/8", expected=(200,))


def test_map_error_hook_runs_first(mocked):
    class Cloudflared(HttpClient):
        def map_error(self, response):
            if response.status_code == 403 and "cloudflare" in response.text.lower():
                return RemoteUnavailable("Blocked by Cloudflare.", ambiguous=False, status_code=403)
            return None

    mocked.get(f"{BASE}/orders", status=403, body="<html>Attention Required! | Cloudflare</html>")
    with pytest.raises(RemoteUnavailable, match="Cloudflare"):
        Cloudflared(base_url=BASE).request("GET", "orders")
    mocked.get(f"{BASE}/me", status=403, body="bad key")
    with pytest.raises(RemoteAuthError):
        Cloudflared(base_url=BASE).request("GET", "me")


def test_get_json_rejects_a_non_json_body(mocked, client):
    mocked.get(f"{BASE}/orders", body="<html>maintenance</html>", status=200)
    with pytest.raises(RemoteDataError) as info:
        client.get_json("orders")
    assert info.value.body == "<html>maintenance</html>"
    mocked.delete(f"{BASE}/orders/1", status=204)
    assert client.request_json("DELETE", "orders/1") is None


# --- transport failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "method", "ambiguous"),
    [
        (requests.ReadTimeout("read timed out"), "POST", True),
        (requests.ReadTimeout("read timed out"), "PATCH", True),
        (requests.ReadTimeout("read timed out"), "GET", False),  # re-sending is safe
        (requests.ConnectTimeout("connect timed out"), "POST", False),
        (requests.ConnectionError(NewConnectionError(None, "refused")), "POST", False),
        (requests.ConnectionError(ProtocolError("Connection aborted.")), "POST", True),
        (requests.ConnectionError(ProtocolError("Connection aborted.")), "GET", False),
    ],
)
def test_transport_failures_are_unavailable(mocked, client, records, exc, method, ambiguous):
    mocked.add(method, f"{BASE}/x", body=exc)
    with pytest.raises(RemoteUnavailable) as info:
        client.request(method, "x")
    assert info.value.ambiguous is ambiguous
    assert info.value.retryable
    assert isinstance(info.value.__cause__, requests.RequestException)
    assert records[-1].status_code is None
    assert records[-1].error.startswith("RemoteUnavailable")


# --- rate limiting ----------------------------------------------------------------------------------


class ScriptedLimiter(RateLimiter):
    def __init__(self, waits):
        self.waits = list(waits)
        self.calls = []

    def acquire(self, key, *, rate, capacity, cost=1):
        self.calls.append((key, rate, capacity, cost))
        return self.waits.pop(0) if self.waits else 0.0

    def acquire_window(self, key, *, limit, window, cost=1, reserve=0):
        self.calls.append((key, limit, window, cost))
        return self.waits.pop(0) if self.waits else 0.0


def test_long_limiter_wait_raises_without_sending(mocked, records):
    mocked.get(f"{BASE}/orders", json=[])
    limiter = ScriptedLimiter([4.0])
    client = HttpClient(
        base_url=BASE,
        rate_limiter=limiter,
        rate_key="store:1",
        rate=2,
        capacity=5,
        call_logger=records.append,
    )
    with pytest.raises(RemoteRateLimited) as info:
        client.request("GET", "orders")
    assert info.value.retry_after == 4.0
    assert info.value.status_code is None
    assert len(mocked.calls) == 0
    assert limiter.calls == [("store:1", 2, 5, 1)]


def test_short_limiter_wait_is_slept_inline(mocked, monkeypatch):
    slept = []
    monkeypatch.setattr(http_module.time, "sleep", slept.append)
    mocked.get(f"{BASE}/orders", json=[])
    limiter = ScriptedLimiter([0.4, 0.3, 0.0])
    HttpClient(base_url=BASE, rate_limiter=limiter, max_inline_wait=1.0).request("GET", "orders")
    assert slept == [0.4, 0.3]
    assert len(mocked.calls) == 1
    assert limiter.calls[0][0] == "api.example.test"  # default key: the host


def test_inline_waits_are_bounded_in_total(mocked, monkeypatch):
    monkeypatch.setattr(http_module.time, "sleep", lambda _: None)
    mocked.get(f"{BASE}/orders", json=[])
    limiter = ScriptedLimiter([0.6, 0.6])
    with pytest.raises(RemoteRateLimited):
        HttpClient(base_url=BASE, rate_limiter=limiter, max_inline_wait=1.0).request("GET", "orders")
    assert len(mocked.calls) == 0


# --- call records ---------------------------------------------------------------------------------------


def test_every_call_produces_a_record(mocked, client, records):
    mocked.get(f"{BASE}/orders", json=[1], headers={"X-Request-Id": "req-42"})
    mocked.post(f"{BASE}/ship", status=422, body="no", headers={"CF-Ray": "8a1b-FRA"})
    client.request("GET", "orders", params={"page": 2})
    with pytest.raises(RemoteRejected):
        client.request("POST", "ship", json={"a": 1})
    ok, failed = records
    assert isinstance(ok, CallRecord)
    assert (ok.method, ok.url, ok.status_code, ok.error, ok.request_id) == (
        "GET",
        f"{BASE}/orders?page=2",
        200,
        None,
        "req-42",
    )
    assert ok.response_body == "[1]"
    assert ok.duration_ms >= 0
    assert (failed.status_code, failed.request_id, failed.request_body) == (422, "8a1b-FRA", '{"a": 1}')
    assert failed.error == "RemoteRejected: HTTP 422: no"


def test_records_are_redacted(mocked, records):
    mocked.post(
        f"{BASE}/login",
        json={"access_token": "resp-token", "expires_in": 3600},
        headers={"Set-Cookie": "session=cookie-secret"},
    )
    mocked.post(f"{BASE}/soap", body="<ok/>", content_type="text/xml")
    client = HttpClient(
        base_url=BASE,
        call_logger=records.append,
        auth=requests.auth.HTTPBasicAuth("user", "basic-secret"),
        default_headers={"X-Api-Key": "header-key"},
    )
    client.request(
        "POST",
        "login",
        params={"apikey": "query-key", "page": "1"},
        json={"username": "bob", "password": "json-pw", "nested": [{"client_secret": "json-secret"}]},
        headers={"X-Auth-Token": "header-token", "Cookie": "a=b"},
    )
    client.request(
        "POST",
        "soap",
        data="<Envelope><User>bob</User><Password>xml-pw</Password></Envelope>",
        headers={"Content-Type": "text/xml"},
    )
    login, soap = records
    dumped = json.dumps([vars_of(login), vars_of(soap)])
    for secret in (
        "basic-secret",
        "dXNlcjpiYXNpYy1zZWNyZXQ",
        "header-key",
        "query-key",
        "json-pw",
        "json-secret",
        "header-token",
        "a=b",
        "resp-token",
        "xml-pw",
    ):
        assert secret not in dumped
    assert login.url == f"{BASE}/login?apikey={REDACTED}&page=1"
    assert login.request_headers["Authorization"] == REDACTED
    assert login.request_headers["X-Api-Key"] == REDACTED
    assert login.request_headers["User-Agent"] == "shipping/0.1"
    assert json.loads(login.request_body)["username"] == "bob"
    assert json.loads(login.response_body) == {"access_token": REDACTED, "expires_in": 3600}
    assert "<User>bob</User>" in soap.request_body


def vars_of(record):
    return {name: getattr(record, name) for name in record.__slots__}


def test_bodies_are_truncated_and_binary_bodies_summarised(mocked, client, records):
    mocked.get(f"{BASE}/big", body="x" * 25_000, content_type="text/plain")
    mocked.get(f"{BASE}/label.pdf", body=b"%PDF-1.7 \x00\x01", content_type="application/pdf")
    client.request("GET", "big")
    client.request("GET", "label.pdf")
    assert len(records[0].response_body) == 10_000
    assert records[1].response_body == "<11 bytes application/pdf>"


def test_a_failing_call_logger_never_breaks_the_call(mocked, caplog):
    def broken(record):
        raise RuntimeError("log table is gone")

    mocked.get(f"{BASE}/orders", json=[1])
    with caplog.at_level(logging.ERROR, logger="shipping.core.http"):
        assert HttpClient(base_url=BASE, call_logger=broken).get_json("orders") == [1]
    assert "call_logger failed" in caplog.text

    mocked.get(f"{BASE}/missing", status=404)
    with pytest.raises(RemoteRejected):  # the remote error, not the logger's
        HttpClient(base_url=BASE, call_logger=broken).request("GET", "missing")


def test_remote_errors_share_one_base(mocked, client):
    mocked.get(f"{BASE}/orders", status=418)
    with pytest.raises(RemoteError):
        client.request("GET", "orders")
