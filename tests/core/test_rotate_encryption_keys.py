from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test.utils import isolate_apps

from shipping.core.fields import EncryptedJSONField
from shipping.core.management.commands import rotate_encryption_keys as command

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def _raw_tokens(model):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table} ORDER BY id")
        return cursor.fetchall()


@pytest.fixture
def vault(monkeypatch, settings):
    """A throwaway table with an encrypted column, the only one the command sees."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    with isolate_apps("shipping.core"):

        class Vault(models.Model):
            secret = EncryptedJSONField(null=True)

            class Meta:
                app_label = "core"
                db_table = "core_test_rotation_vault"

    with connection.schema_editor() as editor:
        editor.create_model(Vault)
    monkeypatch.setattr(command, "encrypted_fields", lambda: [(Vault, Vault._meta.get_field("secret"))])
    try:
        yield Vault
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Vault)


@pytest.mark.django_db(transaction=True)
def test_re_encrypts_every_row_with_the_newest_key(vault, settings):
    vault.objects.bulk_create([vault(secret={"n": n}) for n in range(7)] + [vault(secret=None)])
    before = _raw_tokens(vault)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "3", stdout=out)

    assert "core.Vault.secret: 7 rows re-encrypted" in out.getvalue()
    after = _raw_tokens(vault)
    assert [t for _, t in after if t] != [t for _, t in before if t]
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key can now go
    assert sorted(v.secret["n"] for v in vault.objects.exclude(secret__isnull=True)) == list(range(7))


@pytest.mark.django_db(transaction=True)
def test_dry_run_writes_nothing(vault, settings):
    vault.objects.create(secret={"a": 1})
    before = _raw_tokens(vault)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    out = StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=out)
    assert "1 rows would be re-encrypted" in out.getvalue()
    assert _raw_tokens(vault) == before


@pytest.mark.django_db(transaction=True)
def test_undecryptable_token_fails_with_a_clear_message(vault, settings):
    good = vault.objects.create(secret={"a": 1})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    lost = vault.objects.create(secret={"b": 2})  # made with a key we then drop
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    out = StringIO()
    with pytest.raises(CommandError, match=rf"1 value\(s\) cannot be decrypted.*core.Vault.secret pk={lost.pk}"):
        call_command("rotate_encryption_keys", stdout=out)
    assert "1 rows re-encrypted, 1 could not be decrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert vault.objects.get(pk=good.pk).secret == {"a": 1}


def test_bad_configuration_is_a_command_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS is empty"):
        call_command("rotate_encryption_keys")


def test_finds_encrypted_fields_of_installed_models():
    # Core has no concrete model; whatever the project defines must be discovered, proxies skipped.
    for model, field in command.encrypted_fields():
        assert isinstance(field, EncryptedJSONField)
        assert not model._meta.proxy


@pytest.mark.django_db(transaction=True)
def test_a_row_saved_meanwhile_is_not_overwritten(vault, settings, monkeypatch):
    row = vault.objects.create(secret={"v": "old"})
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    real_rotate = command.rotate_token

    def rotate_while_a_user_saves(token):
        vault.objects.filter(pk=row.pk).update(secret={"v": "new"})
        return real_rotate(token)

    monkeypatch.setattr(command, "rotate_token", rotate_while_a_user_saves)
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "0 rows re-encrypted, 1 skipped" in out.getvalue()
    assert vault.objects.get(pk=row.pk).secret == {"v": "new"}
