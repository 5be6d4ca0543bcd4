"""Fixtures for document tests: sample data, PDF readers and a local image server (127.0.0.1 only)."""

import io
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from pypdf import PdfReader

from orders.documents import fetch
from orders.documents.data import AddressBlock, LabelData, PackingSlipData, SlipItem

NAMES = ("Łódź", "Иван Петров", "Γιώργος", "山田太郎")


def png_bytes(width: int = 40, height: int = 30, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "red" if mode == "RGB" else 0).save(buffer, "PNG")
    return buffer.getvalue()


# --- PDFs ------------------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def image_sizes(pdf: bytes) -> list[tuple[int, int]]:
    """Pixel sizes of every image embedded in the PDF, page by page."""
    return [image.image.size for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


# --- sample data -------------------------------------------------------------------------------------

WAREHOUSE = AddressBlock(
    name="Phones Ltd Warehouse", street1="Keizersgracht 1", city="Amsterdam", postal_code="1015 CJ", country="NL"
)


def label_data(tracking: str = "1Z999AA10123456784", *, name: str = "Zofia Wójcik", **overrides) -> LabelData:
    values = {
        "ship_from": WAREHOUSE,
        "ship_to": AddressBlock(
            name=name, street1="ul. Piotrkowska 104", city="Łódź", postal_code="90-006", country="PL", phone="+48 600"
        ),
        "carrier_name": "DHL Express",
        "service_name": "Express Worldwide",
        "tracking_number": tracking,
        "order_number": "BM-100234",
        "weight_text": "0.45 kg",
        "ship_date": date(2026, 11, 23),
        "reference": "IMEI 356938035643809",
    }
    return LabelData(**{**values, **overrides})


def slip_data(*, image_url: str = "", customer: str = "Jan Kowalski", **overrides) -> PackingSlipData:
    values = {
        "company_name": "Phones Ltd",
        "logo_url": "",
        "order_number": "BM-100234",
        "order_date": datetime(2026, 11, 20, 12, 30, tzinfo=UTC),
        "store_name": "Back Market FR",
        "customer_name": customer,
        "customer_email": "yamada@example.com",
        "customer_phone": "+81 3 1234 5678",
        "ship_to": AddressBlock(
            name="Иван Петров", street1="ul. Piotrkowska 104", city="Łódź", postal_code="90-006", country="PL"
        ),
        "bill_to": AddressBlock(name="Γιώργος Παπαδόπουλος", street1="Οδός Αθηνάς 5", city="Αθήνα", country="GR"),
        "items": (
            SlipItem(
                sku="IPH13-128-MID",
                name="iPhone 13 128 GB",
                quantity=2,
                options=(("Colour", "Midnight"), ("Grade", "A")),
                stock_location="A-01-03",
                image_url=image_url,
                unit_price=Decimal("329.00"),
            ),
        ),
        "gift": False,
        "gift_message": "",
        "customer_notes": "",
        "requested_service": "Express",
        "currency": "EUR",
    }
    return PackingSlipData(**{**values, **overrides})


# --- network ------------------------------------------------------------------------------------------

BIG = 3 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format, *args):  # quiet test output
        pass

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if path.endswith(".png") and path.startswith(("/ok", "/thumb")):
            self._send(200, "image/png", PNG_OK)
        elif path == "/fake.png":
            self._send(200, "image/png", b"<html>not a png</html>")
        elif path == "/page.html":
            self._send(200, "text/html", b"<html><body>hello</body></html>")
        elif path == "/logo.svg":
            self._send(200, "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
        elif path == "/big.png":
            self._send(200, "image/png", b"\x89PNG" + b"\0" * BIG)
        elif path == "/big-stream.png":
            self._stream("image/png", [b"\0" * 65536] * (BIG // 65536 + 1), pause=0)
        elif path == "/bomb.png":
            self._send(200, "image/png", PNG_BOMB)
        elif path == "/slow.png":
            self._stream("image/png", [b"\0"] * 50, pause=0.2)
        elif path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.end_headers()
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write(body)

    def _stream(self, content_type: str, chunks: list[bytes], *, pause: float) -> None:
        # HTTP/1.0 with no Content-Length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.end_headers()
        for chunk in chunks:
            if not self._write(chunk):
                return
            time.sleep(pause)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the fetcher hung up, as it should on a refused body
            return False
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list


PNG_OK = png_bytes(40, 30)
PNG_BOMB = png_bytes(6000, 6000, mode="1")  # a few KB on the wire, 36 megapixels decoded


class ImageServer:
    def __init__(self, server: _Server) -> None:
        self._server = server
        self.host, self.port = server.server_address[:2]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(path, Host header) of every request received."""
        return self._server.requests


@pytest.fixture
def image_server():
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield ImageServer(server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def connections(monkeypatch):
    """Every (address, port) the fetcher connects to, recorded before connecting."""
    seen: list[tuple[str, int]] = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        seen.append((address[0], address[1]))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(fetch.socket, "create_connection", recording)
    return seen


@pytest.fixture
def private_allowed(settings):
    settings.DOCUMENT_FETCH_ALLOW_PRIVATE = True


@pytest.fixture
def loopback_is_public(monkeypatch):
    """Treat 127.0.0.1 as a public host, so a local server can play an internet site that redirects."""
    real = fetch.is_public_address
    monkeypatch.setattr(fetch, "is_public_address", lambda address: address == "127.0.0.1" or real(address))


@pytest.fixture
def tls_image_server(tmp_path):
    """The image server over HTTPS with a certificate for images.example.com from a throwaway CA."""
    ca_file, cert_file, key_file = _certificates(tmp_path, "images.example.com")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield ImageServer(server), ca_file
    server.shutdown()
    server.server_close()


def _certificates(folder, host: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def issue(subject_key, subject, issuer_key, issuer, *, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = issue(ca_key, "Test CA", ca_key, "Test CA", ca=True)
    cert = issue(key, host, ca_key, "Test CA", ca=False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(folder / "ca.pem"), str(folder / "cert.pem"), str(folder / "key.pem")
