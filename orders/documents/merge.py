"""Join PDFs with pypdf: chunked packing-slip batches, carrier labels into one print file."""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter


def merge_pdfs(parts: Sequence[bytes]) -> bytes:
    """The pages of every part, in order, as one PDF."""
    if not parts:
        raise ValueError("no PDFs to merge")
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    writer.compress_identical_objects()  # fonts and images repeated across chunks are stored once
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
