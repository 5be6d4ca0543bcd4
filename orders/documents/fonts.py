"""TrueType fonts for ReportLab documents, with a per-character CJK fallback.

ReportLab's built-in fonts are Latin-1 only (Łódź and Cyrillic print as boxes) and it has no font
fallback, so text is split into runs: DejaVu Sans where it has the glyph (Latin, Greek, Cyrillic),
Droid Sans Fallback otherwise (Chinese, Japanese), checked against each font's cmap.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
CJK = "DroidSansFallback"

_FILES = {
    REGULAR: (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), "fonts-dejavu-core"),
    BOLD: (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"), "fonts-dejavu-core"),
    CJK: (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), "fonts-droid-fallback"),
}


class FontMissingError(RuntimeError):
    pass


@dataclass(frozen=True)
class _Font:
    name: str
    cmap: frozenset[int]

    def covers(self, char: str) -> bool:
        return ord(char) in self.cmap


_lock = threading.Lock()
_fonts: dict[str, _Font] = {}


def register_fonts() -> None:
    """Register the fonts with ReportLab once per process (parsing Droid's 28k glyphs takes ~0.15 s)."""
    if len(_fonts) == len(_FILES):
        return
    with _lock:
        for name, (path, package) in _FILES.items():
            if name in _fonts:
                continue
            if not path.is_file():
                raise FontMissingError(
                    f"Font file {path} is missing: install the Debian package {package} (listed in .ci/run)."
                )
            font = TTFont(name, str(path))
            pdfmetrics.registerFont(font)
            _fonts[name] = _Font(name, frozenset(font.face.charToGlyph))


def text_runs(text: str, *, bold: bool = False) -> list[tuple[str, str]]:
    """Split ``text`` into (font name, text) runs: the DejaVu face, or the CJK font where it lacks a glyph.

    Whitespace stays in the current run so a space between two CJK words does not start a new run.
    """
    return list(_runs(text, bold))


@functools.lru_cache(maxsize=4096)  # captions, carriers and names repeat across a batch; fitting re-measures
def _runs(text: str, bold: bool) -> tuple[tuple[str, str], ...]:
    register_fonts()
    primary, fallback = _fonts[BOLD if bold else REGULAR], _fonts[CJK]
    runs: list[tuple[str, str]] = []
    for char in text:
        if runs and char.isspace():
            font = runs[-1][0]
        elif primary.covers(char) or not fallback.covers(char):
            font = primary.name  # a glyph neither font has prints as DejaVu's box: visible, not dropped
        else:
            font = fallback.name
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return tuple(runs)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    return sum(pdfmetrics.stringWidth(chunk, font, size) for font, chunk in _runs(text, bold))


def draw_text(canvas: Canvas, x: float, y: float, text: str, size: float, *, bold: bool = False) -> float:
    """Draw ``text`` with its baseline at ``y`` starting at ``x``; returns the width drawn."""
    start = x
    for font, chunk in _runs(text, bold):
        if bold and font == CJK:
            # Droid has no bold face: fake it by stroking the outline too (text render mode 2).
            canvas.saveState()
            canvas.setLineWidth(size * 0.04)
            text_object = canvas.beginText(x, y)
            text_object.setFont(font, size)
            text_object.setTextRenderMode(2)
            text_object.textOut(chunk)
            canvas.drawText(text_object)
            canvas.restoreState()
        else:
            canvas.setFont(font, size)
            canvas.drawString(x, y, chunk)
        x += pdfmetrics.stringWidth(chunk, font, size)
    return x - start


def fit_text(text: str, width: float, size: float, *, minimum: float, bold: bool = False) -> tuple[str, float]:
    """Shrink ``text`` from ``size`` down to ``minimum`` to fit ``width``; cut it with "…" if still too long."""
    natural = text_width(text, size, bold=bold)
    if natural <= width:
        return text, size
    size = max(minimum, size * width / natural * 0.999)  # 0.999: no float rounding past the edge
    while text and text_width(text, size, bold=bold) > width:
        text = text[:-2].rstrip() + "…" if len(text) > 1 else ""
    return text, size
