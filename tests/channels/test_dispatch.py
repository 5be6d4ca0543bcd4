from datetime import timedelta

import pytest
from django.utils import timezone

from channels.services.dispatch import stores_due_for_import
from channels.tasks import dispatch_order_imports, import_orders_for_store
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_only_active_stores_whose_interval_elapsed_are_due(merchant):
    now = timezone.now()
    due = StoreFactory(merchant=merchant)
    recent = StoreFactory(merchant=merchant, import_dispatched_at=now - timedelta(minutes=2))
    elapsed = StoreFactory(
        merchant=merchant, import_interval_minutes=5, import_dispatched_at=now - timedelta(minutes=6)
    )
    StoreFactory(merchant=merchant, is_active=False)
    StoreFactory(merchant=merchant, needs_new_credentials=True)
    StoreFactory(merchant=merchant, kind="manual")  # nothing to fetch

    assert sorted(stores_due_for_import()) == sorted([due.pk, elapsed.pk])
    assert stores_due_for_import() == []  # stamped: the next tick does not send them again
    recent.refresh_from_db()
    assert recent.import_dispatched_at == now - timedelta(minutes=2)


def test_dispatcher_enqueues_each_due_store_after_commit(merchant, monkeypatch, django_capture_on_commit_callbacks):
    store = StoreFactory(merchant=merchant)
    sent = []
    monkeypatch.setattr(import_orders_for_store, "apply_async", lambda args, **kw: sent.append((args, kw)))

    with django_capture_on_commit_callbacks() as callbacks:
        assert dispatch_order_imports.run() == 1
        assert sent == []  # nothing leaves before the stamp is committed
    for callback in callbacks:
        callback()

    assert sent == [([store.pk], {"expires": 300})]
