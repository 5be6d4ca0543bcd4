"""Re-encrypt every stored EncryptedJSONField value with the newest key.

Run after prepending a key to FIELD_ENCRYPTION_KEYS; once it reports no failure the old keys can
be removed. Safe to re-run and to run while the app is up.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, router
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

from shipping.core.crypto import DecryptionError, get_multifernet, rotate_token
from shipping.core.fields import EncryptedJSONField

MAX_LISTED_FAILURES = 20


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedJSONField]]:
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue  # same table as its concrete model
        # local_*: a multi-table child must not re-process its parent's columns.
        found.extend(
            (model, field) for field in model._meta.local_concrete_fields if isinstance(field, EncryptedJSONField)
        )
    return found


def _raw(field: EncryptedJSONField) -> Cast:
    # Cast to a plain TextField so the ORM hands back the stored token instead of decrypting it.
    return Cast(field.name, output_field=models.TextField())


class Command(BaseCommand):
    help = "Re-encrypt every EncryptedJSONField value with the newest key in FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", help="Database alias (default: the router's choice per model).")
        parser.add_argument("--dry-run", action="store_true", help="Only check that every value decrypts.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        database: str | None = options["database"]
        dry_run: bool = options["dry_run"]
        try:
            get_multifernet()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

        targets = encrypted_fields()
        if not targets:
            self.stdout.write("No EncryptedJSONField found: nothing to re-encrypt.")
            return

        failures: list[str] = []
        for model, field in targets:
            using = database or router.db_for_write(model)
            done, changed, failed = self._rotate_field(
                model, field, using, dry_run=dry_run, batch_size=options["batch_size"]
            )
            verb = "would be re-encrypted" if dry_run else "re-encrypted"
            line = f"{model._meta.label}.{field.name}: {done} rows {verb}"
            if changed:
                line += f", {changed} skipped (changed or deleted meanwhile; a save uses the newest key)"
            if failed:
                line += f", {len(failed)} could not be decrypted"
            self.stdout.write(line)
            failures.extend(f"{model._meta.label}.{field.name} pk={pk}" for pk in failed)

        if failures:
            listed = ", ".join(failures[:MAX_LISTED_FAILURES])
            hidden = len(failures) - MAX_LISTED_FAILURES
            more = f" and {hidden} more" if hidden > 0 else ""
            raise CommandError(
                f"{len(failures)} value(s) cannot be decrypted by any key in FIELD_ENCRYPTION_KEYS: "
                f"{listed}{more}. Restore the missing key before removing any old one."
            )

    def _rotate_field(
        self,
        model: type[models.Model],
        field: EncryptedJSONField,
        using: str,
        *,
        dry_run: bool,
        batch_size: int,
    ) -> tuple[int, int, list[Any]]:
        manager = model._base_manager.db_manager(using)
        rows = manager.filter(**{f"{field.name}__isnull": False}).annotate(_raw_token=_raw(field))
        done = changed = 0
        failed: list[Any] = []
        last_pk = None
        while True:
            # Keyset pagination: stable while rows are being updated, any table size.
            page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            batch = list(page.order_by("pk").values_list("pk", "_raw_token")[:batch_size])
            if not batch:
                return done, changed, failed
            for pk, token in batch:
                try:
                    new_token = rotate_token(token)
                except DecryptionError:
                    failed.append(pk)
                    continue
                if dry_run:
                    done += 1
                    continue
                # Only if the row still holds the token we read: a concurrent save wins.
                updated = (
                    manager.filter(pk=pk)
                    .filter(Exact(_raw(field), token))
                    .update(**{field.attname: models.Value(new_token, output_field=models.TextField())})
                )
                if updated:
                    done += 1
                else:
                    changed += 1
            last_pk = batch[-1][0]
