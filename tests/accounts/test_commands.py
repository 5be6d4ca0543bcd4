"""The command-line contract other tooling drives the app with."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from channels.models import Store
from shipping.accounts.models import Merchant
from shipping.accounts.services import api_key_authenticate
from tests.conftest import fake_order

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_merchant_is_idempotent_and_prints_the_id_last(client):
    first = run("create_merchant", "acme", "--email", "owner@acme.test", "--password", "s3cret-pass")
    again = run("create_merchant", "acme", "--email", "owner@acme.test", "--password", "s3cret-pass")
    merchant = Merchant.objects.get()
    assert first[-1] == again[-1] == str(merchant.pk)
    assert client.login(username="owner@acme.test", password="s3cret-pass")


def test_create_api_key_prints_key_and_secret_last():
    run("create_merchant", "acme", "--email", "owner@acme.test", "--password", "s3cret-pass")
    key, secret = run("create_api_key", "acme")[-1].split()
    api_key = api_key_authenticate(key=key, secret=secret)
    assert api_key is not None and api_key.merchant.slug == "acme"
    assert api_key_authenticate(key=key, secret=secret + "x") is None
    assert secret not in api_key.secret_hash


def test_create_api_key_for_unknown_merchant_fails():
    with pytest.raises(CommandError, match="No merchant"):
        run("create_api_key", "nobody")


def test_connect_store_checks_credentials_and_prints_the_id_last(market):
    run("create_merchant", "acme", "--email", "owner@acme.test", "--password", "s3cret-pass")
    lines = run("connect_store", "acme", "fake", "--name", "Shop", "--marketplace", market.name, "--token", "t0k")
    store = Store.objects.get()
    assert lines[-1] == str(store.pk)
    assert (store.name, store.config, store.credentials) == ("Shop", {"marketplace": market.name}, {"token": "t0k"})
    assert store.status_mappings.filter(external_status="paid", status="awaiting_shipment").exists()


def test_connect_store_refuses_a_bad_token_unless_told_not_to_check(market):
    run("create_merchant", "acme", "--email", "owner@acme.test", "--password", "s3cret-pass")
    with pytest.raises(CommandError, match="refused these credentials"):
        run("connect_store", "acme", "fake", "--marketplace", market.name, "--token", market.reject_token)
    assert not Store.objects.exists()
    run("connect_store", "acme", "fake", "--marketplace", market.name, "--token", market.reject_token, "--no-check")
    assert Store.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme", "ebay"], "No adapter for channel 'ebay'"),
        (["nobody", "fake"], "No merchant with slug 'nobody'"),
        (["acme", "manual", "--token", "x"], "has no setting 'token'"),
    ],
)
def test_connect_store_bad_input_is_a_clear_error(args, message):
    run("create_merchant", "acme", "--email", "owner@acme.test", "--password", "s3cret-pass")
    with pytest.raises(CommandError, match=message):
        run("connect_store", *args)


def test_connect_store_cli_exits_non_zero_with_message(capsys):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "connect_store", "nobody", "fake"])
    assert exit_info.value.code != 0
    assert "No merchant with slug 'nobody'" in capsys.readouterr().err


def test_import_orders_prints_counts(store, market):
    market.put(fake_order("1"))
    market.put(fake_order("2", ship_to=None))
    lines = run("import_orders", "--store", str(store.pk))
    assert lines[-1] == "created=1 updated=0 unchanged=0 quarantined=1"
    lines = run("import_orders", "--store", str(store.pk), "--since", "2020-01-01T00:00:00Z")
    assert lines[-1] == "created=0 updated=0 unchanged=1 quarantined=1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "999999"], "No store with id 999999"),
        (["--store", "{store}", "--since", "yesterday"], "--since must be an ISO 8601"),
        (["--store", "{store}", "--since", "2026-01-02", "--until", "2026-01-01"], "--until must be after"),
    ],
)
def test_import_orders_bad_input(store, args, message):
    with pytest.raises(CommandError, match=message):
        run("import_orders", *[a.format(store=store.pk) for a in args])
