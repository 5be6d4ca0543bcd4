"""Printable documents: 4x6 labels (ReportLab) and packing slips (WeasyPrint), merged with pypdf.

Renderers take the plain dataclasses of ``orders.documents.data`` and return PDF bytes; they never
touch the ORM, so services decide what goes on a document and tests need no database. Import the
renderers from their modules (``labels``, ``packing_slips``, ``merge``): WeasyPrint is slow to
import and needs Pango, so nothing heavy is imported here.
"""
