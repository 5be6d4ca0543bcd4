"""The URL fetcher WeasyPrint uses for packing slips: images only, from public addresses only.

Item image URLs come from marketplaces, so a hostile one could make WeasyPrint read local files or
reach internal services (SSRF: cloud metadata at 169.254.169.254, admin ports on localhost). Rules:

* ``data:`` URIs and our own media/static files (served from storage, not over HTTP); ``http(s)``
  to a host whose every address is public. We connect to the address we checked (no proxy from
  the environment), so a DNS answer that changes between check and connect (rebinding) cannot
  redirect us; TLS still verifies the host name. Every other scheme (``file:`` first) is refused.
* at most a few redirects, each hop checked like the first; size, time and pixel-count caps; a
  raster image Pillow can identify (no SVG: it could pull in further resources and costs layout).
* anything refused or failing becomes a transparent 1x1 PNG, logged at INFO: a broken image never
  breaks a slip.

``DOCUMENT_FETCH_ALLOW_PRIVATE`` lifts the address check only (tests and benchmarks that serve
images from 127.0.0.1).
"""

from __future__ import annotations

import base64
import http.client
import logging
import mimetypes
import posixpath
import socket
import time
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

from django.conf import settings
from PIL import Image
from weasyprint.urls import URLFetcher, URLFetcherResponse

from shipping.core.netguard import is_public_address, pinned_connection

logger = logging.getLogger(__name__)

# A transparent 1x1 PNG.
PLACEHOLDER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNgYGBgAAAABQABeqhXUAAAAABJRU5ErkJggg=="
)
PLACEHOLDER_URL = "data:image/png;base64," + base64.b64encode(PLACEHOLDER_PNG).decode()
# Base URL of rendered HTML when the caller gives none: relative media/static URLs (a store logo's
# ``FieldFile.url``) resolve under it and are served from storage. ``.invalid`` never resolves.
LOCAL_BASE_URL = "https://documents.invalid/"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_USER_AGENT = "shipping-documents/1 (+packing slip images)"
# NAT64 prefixes embed an IPv4 address a gateway would reach for us.


class FetchRefused(Exception):
    """Why an image was not used; logged, then replaced by the placeholder."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    connect_timeout: float
    timeout: float  # the whole fetch, redirects included
    max_redirects: int
    max_pixels: int
    allow_private: bool

    @classmethod
    def from_settings(cls, timeout: float | None = None) -> Limits:
        return cls(
            max_bytes=settings.DOCUMENT_FETCH_MAX_BYTES,
            connect_timeout=min(settings.DOCUMENT_FETCH_CONNECT_TIMEOUT, timeout or settings.DOCUMENT_FETCH_TIMEOUT),
            timeout=timeout or settings.DOCUMENT_FETCH_TIMEOUT,
            max_redirects=settings.DOCUMENT_FETCH_MAX_REDIRECTS,
            max_pixels=settings.DOCUMENT_IMAGE_MAX_PIXELS,
            allow_private=settings.DOCUMENT_FETCH_ALLOW_PRIVATE,
        )


def safe_url_fetcher(
    url: str, timeout: float | None = None, *, base_url: str | None = None, limits: Limits | None = None
) -> URLFetcherResponse:
    """Fetch ``url`` for WeasyPrint under the rules above; never raises, a refusal gives the placeholder.

    ``base_url`` is the origin the HTML was rendered against: media/static URLs under it (or under
    ``LOCAL_BASE_URL``) are read from storage.
    """
    limits = limits or Limits.from_settings(timeout)
    try:
        body, content_type = _fetch(url, base_url, limits)
        _check_image(body, limits)
    except Exception as exc:  # refused, unreachable, malformed: all mean "no image", never a failed slip
        logger.info("document image %s not used: %s", _loggable(url), exc)
        # Never echo the refused URL: WeasyPrint re-reads a response whose URL is ``file:`` from disk.
        return URLFetcherResponse(PLACEHOLDER_URL, PLACEHOLDER_PNG, {"Content-Type": "image/png"})
    return URLFetcherResponse(url, body, {"Content-Type": content_type})


class SafeURLFetcher(URLFetcher):
    """``safe_url_fetcher`` in the shape WeasyPrint 70 expects for ``url_fetcher=``."""

    def __init__(self, *, base_url: str | None = None, timeout: float | None = None) -> None:
        super().__init__(allowed_protocols=("http", "https", "data"), allow_redirects=False)
        self._base_url = base_url
        self._limits = Limits.from_settings(timeout)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        return safe_url_fetcher(url, base_url=self._base_url, limits=self._limits)


# --- dispatch ---------------------------------------------------------------------------------


def _fetch(url: str, base_url: str | None, limits: Limits) -> tuple[bytes, str]:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "data":
        return _from_data_uri(url, limits)
    if scheme not in ("http", "https"):
        raise FetchRefused(f"scheme {scheme or '(none)'!r} not allowed")
    local = _local_file(url, base_url)
    if local is not None:
        return local(limits)
    return _from_network(url, limits)


def _from_data_uri(url: str, limits: Limits) -> tuple[bytes, str]:
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise FetchRefused("malformed data URI")
    if len(payload) > limits.max_bytes * 4 // 3 + 4:
        raise FetchRefused("data URI too large")
    params = header.split(";")
    content_type = params[0].strip().lower() or "text/plain"
    body = base64.b64decode(unquote(payload)) if "base64" in params[1:] else unquote_to_bytes(payload)
    _check_type(content_type)
    return _capped(body, limits), content_type


# --- our own media and static files -----------------------------------------------------------


def _local_file(url: str, base_url: str | None):
    """A reader for ``url`` if it names one of our media/static files, else None (fetch it over HTTP)."""
    target = urlsplit(url)
    origins = {_origin(urlsplit(LOCAL_BASE_URL))}
    if base_url:
        origins.add(_origin(urlsplit(base_url)))
    for prefix, opener in ((settings.MEDIA_URL, _open_media), (settings.STATIC_URL, _open_static)):
        parsed = urlsplit(prefix)
        if parsed.scheme:  # an absolute MEDIA_URL (e.g. a CDN) belongs to us as well
            prefix_origins, prefix_path = {_origin(parsed)}, parsed.path
        else:
            prefix_origins, prefix_path = origins, "/" + prefix.lstrip("/")
        if _origin(target) in prefix_origins and target.path.startswith(prefix_path):
            name = _safe_name(unquote(target.path[len(prefix_path) :]))
            return lambda limits, name=name, opener=opener: _read_local(name, opener, limits)
    return None


def _origin(parts) -> tuple[str, str]:
    return parts.scheme.lower(), parts.netloc.lower()


def _safe_name(name: str) -> str:
    normal = posixpath.normpath("/" + name).lstrip("/")
    if not normal or normal == "." or "\x00" in normal:
        raise FetchRefused("empty or invalid storage path")
    return normal  # normpath of "/..." cannot climb above the root


def _open_media(name: str) -> BinaryIO:
    from django.core.files.storage import default_storage

    return default_storage.open(name, "rb")


def _open_static(name: str) -> BinaryIO:
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage

    if staticfiles_storage.exists(name):  # collected (production)
        return staticfiles_storage.open(name, "rb")
    found = finders.find(name)  # not collected (development, tests)
    if not found:
        raise FetchRefused(f"static file {name!r} not found")
    return open(found if isinstance(found, str) else found[0], "rb")  # closed by the caller


def _read_local(name: str, opener, limits: Limits) -> tuple[bytes, str]:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    _check_type(content_type)
    with opener(name) as handle:
        return _capped(handle.read(limits.max_bytes + 1), limits), content_type


# --- the network --------------------------------------------------------------------------------


def _from_network(url: str, limits: Limits) -> tuple[bytes, str]:
    deadline = time.monotonic() + limits.timeout
    for _hop in range(limits.max_redirects + 1):
        status, location, content_type, body = _get(url, limits, deadline)
        if status in _REDIRECTS:
            if not location:
                raise FetchRefused(f"HTTP {status} without Location")
            url = urljoin(url, location)
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                raise FetchRefused("redirect to a scheme other than http(s)")
            continue
        if status != 200:
            raise FetchRefused(f"HTTP {status}")
        return body, content_type
    raise FetchRefused(f"more than {limits.max_redirects} redirects")


def _get(url: str, limits: Limits, deadline: float) -> tuple[int, str, str, bytes]:
    """One GET to the checked address; the body is read only for a 200 with an image type."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise FetchRefused("no host")
    if host == "invalid" or host.endswith(".invalid"):  # RFC 2606: never resolves, so never ask DNS
        raise FetchRefused("not one of our media or static files")
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    address = _resolve(host, port, limits)
    timeout = min(limits.connect_timeout, _remaining(deadline))
    connection = pinned_connection(https=https, host=host, port=port, address=address, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(
            "GET", path, headers={"User-Agent": _USER_AGENT, "Accept": "image/*", "Accept-Encoding": "identity"}
        )
        sock = connection.sock  # kept: http.client detaches it from the connection when the response closes
        sock.settimeout(_remaining(deadline))
        response = connection.getresponse()
        if response.status != 200:
            return response.status, response.getheader("Location", ""), "", b""
        content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        _check_type(content_type)
        if response.getheader("Content-Encoding", "identity").lower() != "identity":
            raise FetchRefused("compressed body")  # asked for identity; a compressed one could be a bomb
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > limits.max_bytes:
            raise FetchRefused(f"body of {length} bytes is over {limits.max_bytes}")
        body = bytearray()
        while chunk := _read_chunk(response, sock, deadline):
            body += chunk
            _capped(body, limits)
        return 200, "", content_type, bytes(body)
    finally:
        connection.close()


def _read_chunk(response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> bytes:
    # read1 returns after one socket read, so a server trickling bytes meets the deadline, not just a per-read timeout.
    sock.settimeout(_remaining(deadline))
    return response.read1(_CHUNK)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchRefused("took too long")
    return left


def _resolve(host: str, port: int, limits: Limits) -> str:
    """The address to connect to; refused if *any* address of the host is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefused(f"cannot resolve host: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchRefused("host has no address")
    if not limits.allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise FetchRefused(f"address {address} is not public")
    return addresses[0]


# --- checks ---------------------------------------------------------------------------------------


def _check_type(content_type: str) -> None:
    if not content_type.startswith("image/") or content_type == "image/svg+xml":
        raise FetchRefused(f"content type {content_type or '(none)'!r} is not a raster image")


def _capped(body: bytes | bytearray, limits: Limits) -> bytes | bytearray:
    if len(body) > limits.max_bytes:
        raise FetchRefused(f"body over {limits.max_bytes} bytes")
    return body


def _check_image(body: bytes, limits: Limits) -> None:
    """Pillow must recognise it, and its decoded size must be sane (a small file can decode to gigabytes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(body)) as image:  # reads the header only
                width, height = image.size
        except Exception as exc:
            raise FetchRefused(f"not an image Pillow can read ({exc.__class__.__name__})") from exc
    if width * height > limits.max_pixels:
        raise FetchRefused(f"{width}x{height} pixels is over {limits.max_pixels}")


def _loggable(url: str) -> str:
    """The URL without query or fragment (signed URLs carry tokens), data URIs shortened."""
    if url[:5].lower() == "data:":
        return url[:40] + "…"
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # no user:password
    return f"{parts.scheme}://{host}{parts.path}"[:300]
