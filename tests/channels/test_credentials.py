"""Marketplace credentials are encrypted at rest, never filterable, and survive a key rotation."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from channels.models import Store
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

TOKEN = "bm-live-token-7f3a9c"


def _raw_credentials(store_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_store WHERE id = %s", [store_id])
        return cursor.fetchone()[0]


def test_credentials_are_unreadable_in_the_database(merchant):
    store = StoreFactory(merchant=merchant, credentials={"token": TOKEN, "password": "hunter2"})

    raw = _raw_credentials(store.pk)

    assert TOKEN not in raw and "hunter2" not in raw and "token" not in raw
    assert Store.objects.get(pk=store.pk).credentials == {"token": TOKEN, "password": "hunter2"}


def test_filtering_on_credentials_is_refused_rather_than_silently_empty(merchant):
    StoreFactory(merchant=merchant, credentials={"token": TOKEN})
    with pytest.raises(FieldError):
        Store.objects.filter(credentials={"token": TOKEN}).count()


def test_key_rotation_re_encrypts_every_store(merchant, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    store = StoreFactory(merchant=merchant, credentials={"token": TOKEN})
    before = _raw_credentials(store.pk)

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    after = _raw_credentials(store.pk)

    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key can now be dropped
    assert Store.objects.get(pk=store.pk).credentials == {"token": TOKEN}
    assert "channels.Store.credentials" in out.getvalue() or "Store" in out.getvalue()


def test_admin_never_shows_credentials(merchant, admin_client):
    store = StoreFactory(merchant=merchant, credentials={"token": TOKEN})
    page = admin_client.get(f"/admin/channels/store/{store.pk}/change/").content.decode()
    assert TOKEN not in page
