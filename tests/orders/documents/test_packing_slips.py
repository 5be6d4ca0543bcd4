"""Packing slips: paper sizes, one slip per page, non-Latin text, and images that fail without breaking the slip."""

import base64
import io
import re
import socket

import pytest
from pypdf import PdfReader

from orders.documents.data import PackingSlipData, SlipItem
from orders.documents.labels import render_labels
from orders.documents.merge import merge_pdfs
from orders.documents.packing_slips import render_packing_slips

from .conftest import NAMES, PNG_OK, image_sizes, label_data, page_sizes, pdf_text, png_bytes, slip_data

A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


def test_a4_and_letter_in_one_document():
    pdf = render_packing_slips([slip_data(), slip_data(paper="Letter"), slip_data(paper="A4")])
    assert page_sizes(pdf) == [A4, LETTER, A4]


def test_unknown_paper_is_rejected():
    with pytest.raises(ValueError, match="paper"):
        slip_data(paper="Legal")


def test_each_slip_starts_a_page_and_numbers_its_own_pages():
    items = tuple(SlipItem(sku=f"SKU-{n}", name=f"Item {n}", quantity=1) for n in range(40))
    pdf = render_packing_slips([slip_data(order_number="LONG-1", items=items), slip_data(order_number="SHORT-2")])
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 3  # 40 rows take two pages
    assert "Order LONG-1" in pages[1] and "Page 2" in pages[1]
    assert "Order SHORT-2" in pages[2] and "Page 1" in pages[2]
    assert "SKU-39" in pages[1]


def test_fifty_slips_make_fifty_pages():
    pdf = render_packing_slips([slip_data(order_number=f"N-{n}") for n in range(50)])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 50
    assert "N-0" in reader.pages[0].extract_text()
    assert "N-49" in reader.pages[49].extract_text()


def test_non_latin_text_prints():
    text = pdf_text(render_packing_slips([slip_data(customer="山田太郎")]))
    for name in NAMES:
        assert name in text


def test_content_of_a_slip():
    slip = slip_data(
        customer_notes="Leave at the <b>door</b>",
        gift=True,
        gift_message="Happy birthday, Łucja!",
    )
    text = pdf_text(render_packing_slips([slip]))
    for expected in (
        "Phones Ltd",
        "BM-100234",
        "2026-11-20",
        "IPH13-128-MID",
        "iPhone 13 128 GB",
        "Colour: Midnight",
        "A-01-03",
        "Happy birthday, Łucja!",
        "Leave at the <b>door</b>",  # marketplace text is escaped, not markup
        "yamada@example.com",
        "POLAND",
        "GREECE",
    ):
        assert expected in text
    assert "329.00" not in text  # a gift's slip shows no prices


def test_prices_show_when_not_a_gift():
    assert "329.00 EUR" in pdf_text(render_packing_slips([slip_data()]))


def test_item_image_is_embedded(image_server, private_allowed):
    pdf = render_packing_slips([slip_data(image_url=image_server.url("/thumb-1.png"))])
    assert (40, 30) in image_sizes(pdf)
    assert [path for path, _ in image_server.requests] == ["/thumb-1.png"]


def test_logo_from_media_storage(settings, tmp_path, connections):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "store-logos").mkdir()
    (tmp_path / "store-logos" / "acme.png").write_bytes(png_bytes(120, 40))
    pdf = render_packing_slips([slip_data(logo_url="/media/store-logos/acme.png")], base_url="https://app.example.com/")
    assert (120, 40) in image_sizes(pdf)
    assert connections == []


def test_data_uri_image():
    pdf = render_packing_slips([slip_data(image_url="data:image/png;base64," + base64.b64encode(PNG_OK).decode())])
    assert (40, 30) in image_sizes(pdf)


@pytest.fixture
def local_png_file(tmp_path):
    path = tmp_path / "secret.png"
    path.write_bytes(png_bytes(37, 23))
    return path


@pytest.mark.parametrize(
    ("case", "allow_private"),
    [
        ("404", True),
        ("file", False),
        ("file-image", False),
        ("loopback", False),
        ("metadata", False),
        ("metadata-redirect", False),
        ("not-an-image", True),
        ("oversized", True),
        ("unreachable", True),
    ],
)
def test_failing_image_still_renders_and_forbidden_targets_are_never_fetched(
    case, allow_private, image_server, connections, settings, local_png_file
):
    settings.DOCUMENT_FETCH_ALLOW_PRIVATE = allow_private
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = {
        "404": image_server.url("/missing.png"),
        "file": "file:///etc/passwd",
        "file-image": local_png_file.as_uri(),
        "loopback": image_server.url("/ok.png"),
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "metadata-redirect": image_server.url("/redirect?to=http://169.254.169.254/latest/meta-data/"),
        "not-an-image": image_server.url("/page.html"),
        "oversized": image_server.url("/big.png"),
        "unreachable": f"http://127.0.0.1:{closed_port}/x.png",
    }[case]

    pdf = render_packing_slips([slip_data(image_url=url)])

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert "iPhone 13 128 GB" in pdf_text(pdf)
    assert set(image_sizes(pdf)) <= {(1, 1)}  # the placeholder at most, never the target's content
    assert all(address != "169.254.169.254" for address, _ in connections)
    if not allow_private:
        assert image_server.requests == []
        assert connections == []


def test_loopback_image_is_served_when_private_addresses_are_allowed(image_server, settings):
    settings.DOCUMENT_FETCH_ALLOW_PRIVATE = True
    pdf = render_packing_slips([slip_data(image_url=image_server.url("/ok.png"))])
    assert (40, 30) in image_sizes(pdf)
    assert [path for path, _ in image_server.requests] == ["/ok.png"]


def test_no_slips_is_an_error():
    with pytest.raises(ValueError, match="no packing slips"):
        render_packing_slips([])


def test_merge_keeps_pages_in_order():
    parts = [
        render_packing_slips([slip_data(order_number=f"PART1-N{n}") for n in range(2)]),
        render_packing_slips([slip_data(order_number="PART2-N0", paper="Letter")]),
        render_packing_slips([slip_data(order_number=f"PART3-N{n}") for n in range(3)]),
    ]
    merged = merge_pdfs(parts)
    pages = PdfReader(io.BytesIO(merged)).pages
    assert [re.search(r"PART\d-N\d", page.extract_text())[0] for page in pages] == [
        "PART1-N0",
        "PART1-N1",
        "PART2-N0",
        "PART3-N0",
        "PART3-N1",
        "PART3-N2",
    ]
    assert page_sizes(merged) == [A4, A4, LETTER, A4, A4, A4]


def test_merge_labels_and_nothing():
    merged = merge_pdfs([render_labels([label_data("LX123456789DE")]), render_labels([label_data("9999123456")])])
    assert page_sizes(merged) == [(288.0, 432.0)] * 2
    with pytest.raises(ValueError):
        merge_pdfs([])


def test_slip_data_is_plain_and_frozen():
    slip = slip_data()
    assert isinstance(slip, PackingSlipData)
    with pytest.raises(AttributeError):
        slip.order_number = "x"
