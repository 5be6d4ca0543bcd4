"""4x6 labels: exact page size, a Code 128 that scans back to the tracking number, non-Latin names."""

import io
import subprocess

import pytest
from pypdf import PdfReader

from orders.documents import fonts
from orders.documents.labels import CONTENT_WIDTH, DOT, render_labels, tracking_barcode

from .conftest import NAMES, label_data, page_sizes, pdf_text

TRACKING_NUMBERS = [
    "9999123456",  # leading "99": python-barcode drops it
    "99123456789012345678",
    "1Z999AA10123456784",  # UPS
    "9400111899223197428490",  # USPS, 22 digits
    "LX123456789DE",  # UPU S10
]


def decode_barcodes(pdf: bytes, tmp_path) -> list[str]:
    (tmp_path / "label.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", "label.pdf", "label"], cwd=tmp_path, check=True)
    result = subprocess.run(["zbarimg", "--raw", "-q", "label.png"], cwd=tmp_path, capture_output=True, text=True)
    return result.stdout.split()


@pytest.mark.parametrize("tracking", TRACKING_NUMBERS)
def test_barcode_scans_to_exactly_the_tracking_number(tracking, tmp_path):
    assert decode_barcodes(render_labels([label_data(tracking)]), tmp_path) == [tracking]


@pytest.mark.parametrize("tracking", TRACKING_NUMBERS)
def test_bars_are_whole_printer_dots_and_fit_the_label(tracking):
    symbol = tracking_barcode(tracking)
    assert round(symbol.barWidth / DOT, 6) in (2, 3)
    assert symbol.width <= CONTENT_WIDTH
    assert symbol.lquiet >= 10 * symbol.barWidth and symbol.rquiet >= 10 * symbol.barWidth


def test_tracking_number_is_printed_under_the_barcode():
    assert "9400111899223197428490" in pdf_text(render_labels([label_data("9400111899223197428490")]))


def test_a_tracking_number_code_128_cannot_carry_is_rejected():
    with pytest.raises(ValueError, match="Code 128"):
        render_labels([label_data("ŁÓDŹ-1")])


def test_page_is_exactly_4_by_6_inches():
    assert page_sizes(render_labels([label_data()])) == [(288.0, 432.0)]


def test_one_page_per_label_in_order():
    pdf = render_labels([label_data(f"1Z999AA1{n:010d}") for n in range(50)])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 50
    assert {(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages} == {(288.0, 432.0)}
    assert "1Z999AA10000000000" in reader.pages[0].extract_text()
    assert "1Z999AA10000000049" in reader.pages[49].extract_text()


def test_no_labels_is_an_error():
    with pytest.raises(ValueError, match="no labels"):
        render_labels([])


@pytest.mark.parametrize("name", NAMES)
def test_non_latin_names_print(name):
    text = pdf_text(render_labels([label_data(name=f"{name} Test")]))
    assert name in text


def test_long_lines_shrink_to_fit():
    long = "Konstantynopolitańczykowianeczka Wielkopolska-Brzęczyszczykiewicz Sp. z o.o. oddział 12"
    pdf = render_labels([label_data(name=long)])
    assert "Konstantynopolita" in pdf_text(pdf)


def test_text_runs_use_the_cjk_font_only_where_dejavu_lacks_the_glyph():
    assert fonts.text_runs("Łódź 山田 太郎 Иван") == [
        (fonts.REGULAR, "Łódź "),
        (fonts.CJK, "山田 太郎 "),
        (fonts.REGULAR, "Иван"),
    ]
    assert fonts.text_runs("山田", bold=True) == [(fonts.CJK, "山田")]


def test_a_missing_font_file_says_which_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "_fonts", {})
    monkeypatch.setitem(fonts._FILES, fonts.CJK, (tmp_path / "missing.ttf", "fonts-droid-fallback"))
    with pytest.raises(fonts.FontMissingError, match="fonts-droid-fallback"):
        fonts.register_fonts()
