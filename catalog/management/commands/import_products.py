import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.services.products_csv import products_import_csv
from shipping.core.errors import ApplicationError

from ._common import merchant_and_store


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Create or update products from a CSV file (upsert by SKU), with our column names or SellerCloud's "
        "(ProductID, BACKMARKET_ENABLED_US, BACKMARKET_PRICE_US ...). Bad rows are reported with their row "
        "number on stderr and skipped; the others import. Last line: created N updated N failed N. Exits non-zero "
        "only when the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="merchant slug")
        parser.add_argument("file", help="the CSV file, or - for standard input")
        parser.add_argument("--store", type=int, help="store id the listing columns (enabled, price ...) are for")
        parser.add_argument("--dry-run", action="store_true", help="check and report, change nothing")

    def handle(self, *args, slug: str, file: str, store: int | None, dry_run: bool, **options):
        found_merchant, found_store = merchant_and_store(slug, store)
        if file == "-":
            data, name = sys.stdin.buffer.read(), "stdin"
        else:
            path = Path(file)
            try:
                data, name = path.read_bytes(), path.name
            except OSError as exc:
                raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        report = None
        try:
            with transaction.atomic():
                report = products_import_csv(merchant=found_merchant, data=data, store=found_store, filename=name)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for error in report.errors:
            self.stderr.write(str(error))
        prefix = "Dry run, nothing saved: " if dry_run else ""
        target = f" (listing settings for {report.store_name})" if report.store_name else ""
        self.stdout.write(
            f"{prefix}{report.rows} row(s){target}: {report.unchanged} unchanged, "
            f"{report.stock_movements} stock change(s)"
        )
        self.stdout.write(f"created {report.created} updated {report.updated} failed {len(report.errors)}")
