"""Marketplace calls are logged per store with secrets redacted, and purged after N days."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from channels.models import ChannelCall
from channels.services.adapters import adapter_for_store
from channels.services.purge import sync_logs_purge
from shipping.core.http import HttpClient
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@responses.activate
def test_calls_made_through_a_store_adapter_are_logged_redacted(merchant):
    store = StoreFactory(merchant=merchant, credentials={"token": "s3cr3t-token"})
    context = adapter_for_store(store).context
    responses.post("https://market.example/ws/orders/1", json={"ok": True}, status=200)
    client = HttpClient(
        base_url="https://market.example",
        call_logger=context.call_logger,
        rate_limiter=context.rate_limiter,
        rate=100,
        capacity=10,
    )

    client.request(
        "POST",
        "/ws/orders/1",
        params={"token": "s3cr3t-token"},
        json={"password": "hunter2", "n": 1},
        headers={"Authorization": "Basic s3cr3t-token"},
    )

    call = ChannelCall.objects.get(store=store)
    logged = f"{call.url} {call.request_headers} {call.request_body} {call.response_body}"
    assert (call.method, call.status_code) == ("POST", 200)
    assert "s3cr3t-token" not in logged and "hunter2" not in logged
    assert '"n": 1' in call.request_body


def test_purge_drops_old_calls_and_keeps_recent_ones(merchant, settings):
    settings.CHANNEL_CALL_RETENTION_DAYS = 14
    store = StoreFactory(merchant=merchant)
    old = ChannelCall.objects.create(store=store, method="GET", url="https://x/1")
    ChannelCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))
    recent = ChannelCall.objects.create(store=store, method="GET", url="https://x/2")

    assert sync_logs_purge()["calls"] == 1
    assert list(ChannelCall.objects.values_list("pk", flat=True)) == [recent.pk]
