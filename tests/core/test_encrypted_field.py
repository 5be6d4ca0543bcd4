import json

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models.lookups import IsNull
from django.test.utils import isolate_apps

from shipping.core.crypto import DecryptionError, encrypt_text
from shipping.core.fields import EncryptedJSONField

KEY = Fernet.generate_key().decode()
CREDS = {"api_key": "k-123", "nested": {"password": "pw"}, "list": [1, "two"]}


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY]


def test_prep_value_is_a_fernet_token_of_the_json():
    token = EncryptedJSONField().get_prep_value(CREDS)
    assert "k-123" not in token
    assert json.loads(Fernet(KEY).decrypt(token.encode())) == CREDS


def test_from_db_value_and_to_python_decrypt():
    field = EncryptedJSONField()
    token = field.get_prep_value(CREDS)
    assert field.from_db_value(token, None, None) == CREDS
    assert field.to_python(token) == CREDS
    assert field.to_python(CREDS) is CREDS  # already a value
    assert field.from_db_value(None, None, None) is None
    assert field.get_prep_value(None) is None


def test_default_is_an_empty_dict_and_deconstruct_is_stable():
    field = EncryptedJSONField()
    assert field.get_default() == {}
    name, path, args, kwargs = field.deconstruct()
    assert path == "shipping.core.fields.EncryptedJSONField"
    assert kwargs == {}
    assert EncryptedJSONField(*args, **kwargs).deconstruct() == (name, path, args, kwargs)
    assert EncryptedJSONField(null=True, blank=True).deconstruct()[3] == {"null": True, "blank": True}


def test_errors_never_contain_the_plaintext():
    field = EncryptedJSONField()
    not_json = encrypt_text("password=hunter2")
    with pytest.raises(DecryptionError) as info:
        field.from_db_value(not_json, None, None)
    assert "hunter2" not in str(info.value)
    assert info.value.__suppress_context__
    with pytest.raises(ValidationError):
        field.to_python("garbage")


def test_only_isnull_lookup_is_allowed():
    field = EncryptedJSONField()
    assert field.get_lookup("isnull") is IsNull
    for lookup in ("exact", "iexact", "contains", "in", "startswith"):
        with pytest.raises(FieldError, match="encrypted and cannot be filtered"):
            field.get_lookup(lookup)
    with pytest.raises(FieldError, match="encrypted"):
        field.get_transform("lower")


@isolate_apps("shipping.core")
def test_querysets_refuse_comparisons_but_allow_isnull():
    class Vault(models.Model):
        credentials = EncryptedJSONField()

        class Meta:
            app_label = "core"

    with pytest.raises(FieldError, match=r"core\.Vault\.credentials is encrypted"):
        Vault.objects.filter(credentials={"a": 1})
    with pytest.raises(FieldError):
        Vault.objects.filter(credentials__api_key="x")
    assert "IS NULL" in str(Vault.objects.filter(credentials__isnull=True).query)


@isolate_apps("shipping.core")
def test_check_rejects_unique_and_index():
    class Bad(models.Model):
        credentials = EncryptedJSONField(unique=True)

        class Meta:
            app_label = "core"

    assert [e.id for e in Bad._meta.get_field("credentials").check() if e.level >= checks.ERROR] == ["core.E001"]


@isolate_apps("shipping.core")
def test_value_to_string_dumps_the_token_and_formfield_is_json():
    class Vault(models.Model):
        credentials = EncryptedJSONField()

        class Meta:
            app_label = "core"

    field = Vault._meta.get_field("credentials")
    dumped = field.value_to_string(Vault(credentials=CREDS))
    assert "k-123" not in dumped
    assert field.to_python(dumped) == CREDS
    assert field.formfield().__class__.__name__ == "JSONField"
    assert "k-123" not in repr(field)
