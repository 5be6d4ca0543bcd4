"""The packing-slip URL fetcher: what it serves, what it refuses, and that it never touches a refused target."""

import base64
import logging
import socket
import ssl
import time

import pytest

from orders.documents import fetch
from orders.documents.fetch import PLACEHOLDER_PNG, is_public_address, safe_url_fetcher

from .conftest import PNG_OK, png_bytes


def body(response) -> bytes:
    return response.read()


def refused(response) -> bool:
    return body(response) == PLACEHOLDER_PNG and response.url.startswith("data:")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.8.8",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "not-an-address",
    ],
)
def test_non_public_addresses(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "ftp://127.0.0.1/x.png",
        "gopher://127.0.0.1:6379/_INFO",
        "javascript:alert(1)",
        "/relative.png",
    ],
)
def test_other_schemes_are_refused_without_connecting(url, connections, private_allowed):
    response = safe_url_fetcher(url)
    assert refused(response)
    assert connections == []


def test_refusal_is_logged_at_info_without_the_query(caplog, connections):
    with caplog.at_level(logging.INFO, logger="orders.documents.fetch"):
        safe_url_fetcher("http://127.0.0.1:9/x.png?signature=secret-token")
    assert "127.0.0.1:9/x.png" in caplog.text
    assert "not public" in caplog.text
    assert "secret-token" not in caplog.text


def test_data_uri_image():
    response = safe_url_fetcher("data:image/png;base64," + base64.b64encode(PNG_OK).decode())
    assert body(response) == PNG_OK
    assert response.content_type == "image/png"


def test_data_uri_that_is_not_an_image():
    assert refused(safe_url_fetcher("data:text/html,<script>alert(1)</script>"))


# --- private addresses -------------------------------------------------------------------------------


def test_loopback_is_refused_and_never_contacted(image_server, connections):
    assert refused(safe_url_fetcher(image_server.url("/ok.png")))
    assert image_server.requests == []
    assert connections == []


def test_metadata_address_is_refused_without_connecting(connections):
    assert refused(safe_url_fetcher("http://169.254.169.254/latest/meta-data/iam/security-credentials/"))
    assert refused(safe_url_fetcher("http://[fd00:ec2::254]/latest/meta-data/"))
    assert connections == []


def test_host_name_resolving_to_a_private_address_is_refused(image_server, connections, monkeypatch):
    monkeypatch.setattr(fetch.socket, "getaddrinfo", _resolver({"images.example.com": ["127.0.0.1"]}))
    assert refused(safe_url_fetcher(f"http://images.example.com:{image_server.port}/ok.png"))
    assert image_server.requests == []
    assert connections == []


def test_any_private_address_among_the_answers_refuses_the_host(connections, monkeypatch):
    # A rebinding server can answer with a public and a private address; we might connect to either.
    resolver = _resolver({"cdn.example.com": ["93.184.215.14", "10.0.0.5"]})
    monkeypatch.setattr(fetch.socket, "getaddrinfo", resolver)
    assert refused(safe_url_fetcher("http://cdn.example.com/x.png"))
    assert connections == []


def test_allowed_private_serves_and_connects_to_the_checked_address(
    image_server, connections, monkeypatch, private_allowed
):
    monkeypatch.setattr(fetch.socket, "getaddrinfo", _resolver({"images.example.com": ["127.0.0.1"]}))
    response = safe_url_fetcher(f"http://images.example.com:{image_server.port}/ok.png")
    assert body(response) == PNG_OK
    assert response.content_type == "image/png"
    assert connections == [("127.0.0.1", image_server.port)]  # the address resolved once and checked
    assert image_server.requests == [("/ok.png", f"images.example.com:{image_server.port}")]


def _resolver(table: dict[str, list[str]]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in table[host]
        ]

    return getaddrinfo


# --- redirects ---------------------------------------------------------------------------------------


def test_redirect_to_metadata_is_refused(image_server, connections, loopback_is_public):
    target = "http://169.254.169.254/latest/meta-data/"
    assert refused(safe_url_fetcher(image_server.url(f"/redirect?to={target}")))
    assert [address for address, _ in connections] == ["127.0.0.1"]


def test_redirect_to_a_file_is_refused(image_server, connections, loopback_is_public):
    assert refused(safe_url_fetcher(image_server.url("/redirect?to=file:///etc/passwd")))


def test_redirect_to_an_image_is_followed(image_server, loopback_is_public):
    response = safe_url_fetcher(image_server.url("/redirect?to=/ok.png"))
    assert body(response) == PNG_OK
    assert [path for path, _ in image_server.requests] == ["/redirect?to=/ok.png", "/ok.png"]


def test_redirect_loop_stops(image_server, settings, loopback_is_public):
    settings.DOCUMENT_FETCH_MAX_REDIRECTS = 3
    assert refused(safe_url_fetcher(image_server.url("/loop")))
    assert len(image_server.requests) == 4


# --- what comes back ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/missing.png", "/page.html", "/fake.png", "/logo.svg", "/big.png", "/big-stream.png", "/bomb.png"],
)
def test_unusable_responses_give_the_placeholder(image_server, private_allowed, path):
    assert refused(safe_url_fetcher(image_server.url(path)))
    assert [p for p, _ in image_server.requests] == [path]


def test_slow_body_is_cut_at_the_deadline(image_server, private_allowed, settings):
    settings.DOCUMENT_FETCH_TIMEOUT = 1.0
    started = time.monotonic()
    assert refused(safe_url_fetcher(image_server.url("/slow.png")))
    assert time.monotonic() - started < 3


def test_unreachable_port_gives_the_placeholder(private_allowed):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert refused(safe_url_fetcher(f"http://127.0.0.1:{port}/x.png"))


# --- our own media and static files ------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_URL = "/media/"
    (tmp_path / "store-logos").mkdir()
    logo = png_bytes(120, 40)
    (tmp_path / "store-logos" / "logo.png").write_bytes(logo)
    (tmp_path / "notes.txt").write_text("secret")
    return logo


@pytest.mark.parametrize(
    ("url", "base_url"),
    [
        (fetch.LOCAL_BASE_URL + "media/store-logos/logo.png", None),
        ("https://app.example.com/media/store-logos/logo.png", "https://app.example.com/"),
        ("https://app.example.com/media/store-logos/logo%2Epng", "https://app.example.com/orders/"),
    ],
)
def test_media_is_read_from_storage_not_the_network(media, connections, url, base_url):
    response = safe_url_fetcher(url, base_url=base_url)
    assert body(response) == media
    assert connections == []


@pytest.mark.parametrize(
    "path",
    ["media/notes.txt", "media/../../../../etc/passwd", "media/%2e%2e/%2e%2e/etc/passwd", "media/store-logos/"],
)
def test_media_that_is_not_an_image_or_escapes_is_refused(media, connections, path):
    assert refused(safe_url_fetcher(fetch.LOCAL_BASE_URL + path))
    assert connections == []


def test_static_non_image_is_refused(connections):
    assert refused(safe_url_fetcher(fetch.LOCAL_BASE_URL + "static/css/app.css"))
    assert connections == []


def test_fetcher_object_for_weasyprint(image_server, private_allowed):
    fetcher = fetch.SafeURLFetcher()
    assert fetcher(image_server.url("/ok.png")).read() == PNG_OK
    assert fetcher("file:///etc/passwd").read() == PLACEHOLDER_PNG


# --- https -------------------------------------------------------------------------------------------


@pytest.fixture
def trusting_test_ca(tls_image_server, monkeypatch):
    server, ca_file = tls_image_server
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: real(cafile=ca_file))
    return server


def test_https_verifies_the_host_name_while_connecting_to_the_checked_address(
    trusting_test_ca, connections, monkeypatch, private_allowed
):
    server = trusting_test_ca
    monkeypatch.setattr(fetch.socket, "getaddrinfo", _resolver({"images.example.com": ["127.0.0.1"]}))
    response = safe_url_fetcher(f"https://images.example.com:{server.port}/ok.png")
    assert body(response) == PNG_OK
    assert connections == [("127.0.0.1", server.port)]


def test_https_certificate_for_another_name_is_refused(trusting_test_ca, monkeypatch, private_allowed):
    server = trusting_test_ca
    monkeypatch.setattr(fetch.socket, "getaddrinfo", _resolver({"evil.example.net": ["127.0.0.1"]}))
    assert refused(safe_url_fetcher(f"https://evil.example.net:{server.port}/ok.png"))
    assert server.requests == []
