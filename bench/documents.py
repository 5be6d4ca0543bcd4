"""Document rendering: 4x6 labels (ReportLab) and packing slips (WeasyPrint), seconds and peak memory.

    python bench/documents.py                       # 500 labels, 500 slips, slips in chunks of 50
    python bench/documents.py --count 100 --items 5

Each kind runs in its own subprocess so its peak RSS (getrusage maxrss) is its own. Item thumbnails
come from a local http.server (so DOCUMENT_FETCH_ALLOW_PRIVATE=true for the run); the store logo
comes from media storage. Names mix Latin, Polish, Cyrillic, Greek and CJK, so every font is used.
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("labels", "slips", "slips-chunked")
NAMES = ["Zofia Wójcik", "Иван Петров", "Γιώργος Παπαδόπουλος", "山田太郎", "Jane Smith"]
PRODUCTS = 20  # distinct thumbnails; each slip's lines pick from them


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500, help="labels, and packing slips")
    parser.add_argument("--items", type=int, default=3, help="lines (thumbnails) per slip")
    parser.add_argument("--chunk", type=int, default=50, help="slips per WeasyPrint render when chunked")
    parser.add_argument("--kind", choices=KINDS, help=argparse.SUPPRESS)  # set in the subprocess
    parser.add_argument("--image-base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kind:
        print(json.dumps(_run(args)))
        return

    server = _image_server()
    image_base = f"http://127.0.0.1:{server.server_address[1]}"
    env = {
        **os.environ,
        "SHIPPING_VAR_DIR": tempfile.mkdtemp(prefix="bench-documents-"),
        "DJANGO_SETTINGS_MODULE": "shipping.settings.local",
        "DOCUMENT_FETCH_ALLOW_PRIVATE": "true",  # the thumbnails are on 127.0.0.1
        "LOG_LEVEL": "WARNING",  # fontTools logs every subset at INFO
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    print(f"{args.count} documents, {args.items} thumbnails per slip, chunks of {args.chunk}; one subprocess per kind")
    for kind in KINDS:
        command = [sys.executable, __file__, "--kind", kind, "--image-base", image_base]
        command += ["--count", str(args.count), "--items", str(args.items), "--chunk", str(args.chunk)]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our argv
        if result.returncode:
            sys.exit(f"{kind} failed:\n{result.stderr[-3000:]}")
        r = json.loads(result.stdout.strip().splitlines()[-1])
        per_page = r["seconds"] / r["pages"] * 1000
        print(
            f"{kind:<14} {r['pages']:>4} pages in {r['seconds']:6.2f} s = {per_page:6.1f} ms/page"
            f"  peak RSS {r['peak_mib']:5.0f} MiB (after setup {r['setup_mib']:4.0f} MiB)"
            f"  PDF {r['bytes'] / 1024 / 1024:5.2f} MiB  thumbnails fetched {r['fetched']}"
        )
    print(f"image server requests: {server.requests}")
    server.shutdown()


# --- in the subprocess ---------------------------------------------------------------------------


def _run(args) -> dict:
    import django

    django.setup()
    from pypdf import PdfReader

    fetched = [0]
    if args.kind == "labels":  # WeasyPrint is not even imported: the peak is ReportLab's alone
        from orders.documents.fonts import register_fonts
        from orders.documents.labels import render_labels

        register_fonts()  # once per worker process; not part of each batch
        data = [_label(n) for n in range(args.count)]
    else:
        from django.conf import settings

        from orders.documents import fetch
        from orders.documents.merge import merge_pdfs
        from orders.documents.packing_slips import render_packing_slips

        original = fetch._from_network

        def counting(url, limits):
            fetched[0] += 1
            return original(url, limits)

        fetch._from_network = counting
        logo = Path(settings.MEDIA_ROOT) / "store-logos" / "bench.png"
        logo.parent.mkdir(parents=True, exist_ok=True)
        logo.write_bytes(_png(480, 160, (20, 60, 140)))
        data = [_slip(n, args.items, args.image_base) for n in range(args.count)]
    setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started = time.perf_counter()
    if args.kind == "labels":
        pdf = render_labels(data)
    elif args.kind == "slips":
        pdf = render_packing_slips(data)
    else:
        pdf = merge_pdfs([render_packing_slips(data[i : i + args.chunk]) for i in range(0, len(data), args.chunk)])
    seconds = time.perf_counter() - started

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "bytes": len(pdf),
        "peak_mib": peak / 1024,
        "setup_mib": setup / 1024,
        "fetched": fetched[0],
    }


def _label(n: int):
    from datetime import date

    from orders.documents.data import AddressBlock, LabelData

    return LabelData(
        ship_from=AddressBlock(
            name="Phones Ltd", street1="Keizersgracht 1", city="Amsterdam", postal_code="1015 CJ", country="NL"
        ),
        ship_to=AddressBlock(
            name=NAMES[n % len(NAMES)],
            company="ACME Sp. z o.o." if n % 3 == 0 else "",
            street1=f"ul. Piotrkowska {n % 200 + 1}",
            street2="Lokal 5" if n % 2 else "",
            city="Łódź",
            postal_code="90-006",
            country="PL",
            phone="+48 600 100 200",
        ),
        carrier_name="DHL Express",
        service_name="Express Worldwide",
        tracking_number=("9400111899223197" + f"{n:06d}") if n % 2 else f"1Z999AA1{n:010d}",
        order_number=f"BM-{100000 + n}",
        weight_text="0.45 kg",
        ship_date=date(2026, 11, 23),
        reference="Back Market FR",
    )


def _slip(n: int, items: int, image_base: str):
    from datetime import UTC, datetime
    from decimal import Decimal

    from orders.documents.data import AddressBlock, PackingSlipData, SlipItem

    lines = tuple(
        SlipItem(
            sku=f"SKU-{(n + i) % PRODUCTS:03d}",
            name=f"iPhone 13 128 GB refurbished, grade {'ABC'[i % 3]}",
            quantity=1 + i % 2,
            options=(("Colour", "Midnight"), ("Storage", "128 GB")),
            stock_location=f"A-{(n + i) % PRODUCTS:02d}-03",
            image_url=f"{image_base}/thumb-{(n + i) % PRODUCTS}.jpg",
            unit_price=Decimal("329.00"),
        )
        for i in range(items)
    )
    name = NAMES[n % len(NAMES)]
    return PackingSlipData(
        company_name="Phones Ltd",
        logo_url="/media/store-logos/bench.png",
        order_number=f"BM-{100000 + n}",
        order_date=datetime(2026, 11, 20, 12, 30, tzinfo=UTC),
        store_name="Back Market FR",
        customer_name=name,
        customer_email="customer@example.com",
        customer_phone="+48 600 100 200",
        ship_to=AddressBlock(name=name, street1="ul. Piotrkowska 104", city="Łódź", postal_code="90-006", country="PL"),
        bill_to=None,
        items=lines,
        gift=n % 10 == 0,
        gift_message="Happy birthday!" if n % 10 == 0 else "",
        customer_notes="Leave at the door, please." if n % 4 == 0 else "",
        requested_service="Express",
        currency="EUR",
    )


# --- the image server (parent process) ------------------------------------------------------------


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(width: int, height: int, seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, width - 40, height - 40), fill=((seed * 37) % 256, (seed * 91) % 256, 160))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.server.requests += 1
        name = self.path.rsplit("/", 1)[-1]
        body = self.server.images.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests = 0
    images: dict[str, bytes]


def _image_server() -> _Server:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.images = {f"thumb-{n}.jpg": _jpeg(300, 300, n) for n in range(PRODUCTS)}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    main()
