"""A JSON value stored encrypted (Fernet) in a text column, for marketplace credentials."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core import checks
from django.core.exceptions import FieldError, ValidationError
from django.db import models

from .crypto import DecryptionError, decrypt_text, encrypt_text


class EncryptedJSONField(models.TextField):
    """Stores the Fernet token of ``json.dumps(value)``; the model attribute is the plain value.

    Fernet output is random, so the column cannot be compared, indexed or made unique: every
    lookup except ``isnull`` raises ``FieldError`` rather than silently matching nothing.
    Errors never contain the decrypted value.
    """

    description = "JSON, encrypted at rest"
    empty_strings_allowed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") is dict:
            del kwargs["default"]  # our own default; omitting it keeps migrations minimal
        return name, path, args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.primary_key or self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "EncryptedJSONField cannot be a primary key, unique or indexed: its stored values are random.",
                    obj=self,
                    id="core.E001",
                )
            )
        return errors

    # --- database <-> python ------------------------------------------------------------------

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else _decode(value)

    def to_python(self, value: Any) -> Any:
        # A str is a stored token (loaddata, value_to_string); anything else is already the value.
        if value is None or not isinstance(value, str):
            return value
        try:
            return _decode(value)
        except DecryptionError as exc:
            raise ValidationError(str(exc), code="invalid") from None

    def get_prep_value(self, value: Any) -> str | None:
        # Not super(): TextField.get_prep_value calls to_python, which would decrypt.
        if value is None:
            return None
        return encrypt_text(json.dumps(value, separators=(",", ":")))

    def value_to_string(self, obj: models.Model) -> str | None:
        # dumpdata writes the token, never the secret; loaddata decrypts it through to_python.
        return self.get_prep_value(self.value_from_object(obj))

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return models.Field.formfield(self, **{"form_class": forms.JSONField, **kwargs})

    # --- queries ----------------------------------------------------------------------------------

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(self._refusal(lookup_name))

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(self._refusal(lookup_name))

    def _refusal(self, lookup_name: str) -> str:
        model = getattr(self, "model", None)
        where = f"{model._meta.label}.{self.name}" if model is not None else (self.name or "this field")
        return (
            f"{where} is encrypted and cannot be filtered with '{lookup_name}': its stored values "
            "are random, so a comparison would silently match nothing. Only 'isnull' is supported."
        )


def _decode(token: str) -> Any:
    try:
        return json.loads(decrypt_text(token))
    except json.JSONDecodeError:
        # `from None`: the JSONDecodeError carries the decrypted text in its `doc` attribute.
        raise DecryptionError("Decrypted value is not valid JSON (corrupt data).") from None
