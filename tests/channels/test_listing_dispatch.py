"""What beat starts: reconciles every 5 minutes, creation and repricer hourly when switched on, pushes a lost
task left behind; and the listings log is purged with the other sync logs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import ListingEvent, ListingPush, ListingSync
from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from channels.services.listing_sync import stores_due_for_listing_runs, stores_with_due_pushes
from channels.services.purge import sync_logs_purge
from channels.tasks import dispatch_listing_runs, sweep_listing_pushes
from tests.catalog.conftest import make_product
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_runs_are_due_by_each_stores_own_clock(merchant):
    fresh = StoreFactory(merchant=merchant, kind="back_market")
    listing_sync_configure(store=fresh, mode="quantities", create_listings=True, repricer=True)
    recent = StoreFactory(merchant=merchant, kind="back_market")
    listing_sync_configure(store=recent, mode="prices_and_quantities", repricer=True)
    now = timezone.now()
    ListingSync.objects.filter(store=recent).update(
        last_reconcile_at=now - timedelta(minutes=2), last_reprice_at=now - timedelta(minutes=70)
    )
    off = StoreFactory(merchant=merchant, kind="back_market")
    listing_sync_configure(store=off, mode="off", repricer=True)
    paused = StoreFactory(merchant=merchant, kind="back_market", is_active=False)
    listing_sync_configure(store=paused, mode="quantities")

    due = stores_due_for_listing_runs()

    assert due["reconcile"] == [fresh.pk]  # recent reconciled 2 minutes ago; off and paused never
    assert due["create"] == [fresh.pk]  # only where switched on
    assert sorted(due["reprice"]) == sorted([fresh.pk, recent.pk])  # recent repriced 70 minutes ago


def test_beat_tasks_send_the_work(merchant, monkeypatch):
    store = StoreFactory(merchant=merchant, kind="back_market")
    listing_sync_configure(store=store, mode="quantities")
    product = make_product(merchant, "SKU-1", on_hand=1)
    listing_settings_save(store=store, product=product, enabled=True)
    sent = []
    monkeypatch.setattr(
        "channels.tasks.reconcile_listings.apply_async", lambda args, **kw: sent.append(("reconcile", args))
    )
    monkeypatch.setattr("channels.tasks.push_listings.delay", lambda store_id: sent.append(("push", [store_id])))

    assert dispatch_listing_runs() == {"reconcile": 1, "create": 0, "reprice": 0}
    assert stores_with_due_pushes() == [store.pk]
    assert sweep_listing_pushes() == 1
    assert sent == [("reconcile", [store.pk]), ("push", [store.pk])]
    ListingPush.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))  # backing off
    assert stores_with_due_pushes() == []


def test_listings_log_is_purged_with_the_sync_logs(merchant, settings):
    store = StoreFactory(merchant=merchant, kind="back_market")
    old = ListingEvent.objects.create(merchant=merchant, store=store, kind="push", trigger="stock", sku="A")
    ListingEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.SYNC_LOG_RETENTION_DAYS + 1)
    )
    ListingEvent.objects.create(merchant=merchant, store=store, kind="push", trigger="stock", sku="B")
    assert sync_logs_purge()["listing_events"] == 1
    assert list(ListingEvent.objects.values_list("sku", flat=True)) == ["B"]
