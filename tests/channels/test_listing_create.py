"""Listing creation: who is a candidate, the CSV Back Market gets, polling, binding, per-row errors."""

import csv
import io
from decimal import Decimal

import pytest

from catalog.models import ListingBinding, ListingEvent, ListingSettings, ListingTask
from catalog.services.listing_settings import listing_settings_save, listing_sync_configure
from channels.backmarket.listings import CSV_COLUMNS, drafts_csv
from channels.base import ChannelRejected, ListingDraft
from channels.services.listing_create import listing_task_poll, listings_create
from tests.catalog.conftest import make_product
from tests.factories import StoreFactory

from .listing_fakes import FakeListings

UUID = "cea79c0e-5b2a-4b5e-9d8c-6a1f0e2d3c4b"


@pytest.fixture
def bm(merchant):
    store = StoreFactory(merchant=merchant, kind="back_market", config={"market": "en-us"})
    listing_sync_configure(store=store, mode="quantities", create_listings=True)
    return store


def complete(store, product, **fields):
    values = {
        "enabled": True,
        "safety_quantity": 1,
        "price": Decimal("199.00"),
        "backmarket_id": UUID,
        "grade": 1,
        "warranty_months": 12,
    } | fields
    return listing_settings_save(store=store, product=product, **values)


def test_csv_columns_and_rows():
    drafts = [
        ListingDraft("IP13-128-BLK", UUID, 4, Decimal("399"), "USD", "VERY_GOOD", 12),
        ListingDraft('Quote"d,SKU', "23774", 0, Decimal("12.5"), "EUR", "EXCELLENT", 24),
    ]
    rows = list(csv.reader(io.StringIO(drafts_csv(drafts))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1] == ["IP13-128-BLK", UUID, "", "4", "12", "399.00", "USD", "VERY_GOOD"]
    assert rows[2] == ['Quote"d,SKU', "", "23774", "0", "24", "12.50", "EUR", "EXCELLENT"]


@pytest.mark.django_db
def test_only_complete_unlisted_enabled_products_are_submitted(merchant, bm):
    ready = make_product(merchant, "READY", on_hand=5)
    complete(bm, ready)
    numeric = make_product(merchant, "NUMERIC", on_hand=2)
    complete(bm, numeric, backmarket_id="23774", grade=0)
    complete(bm, make_product(merchant, "DISABLED", on_hand=5), enabled=False)
    complete(bm, make_product(merchant, "NO-GRADE", on_hand=5), grade=None)
    complete(bm, make_product(merchant, "NO-ID", on_hand=5), backmarket_id="")
    complete(bm, make_product(merchant, "NO-PRICE", on_hand=5), price=None)
    listed = make_product(merchant, "LISTED", on_hand=5)
    complete(bm, listed)
    ListingBinding.objects.create(store=bm, product=listed, sku="LISTED", listing_id="5486bfc7-0000")
    fake = FakeListings()

    counts = listings_create(store_id=bm.pk, adapter=fake)

    [drafts] = fake.submitted
    assert [(d.sku, d.product_ref, d.quantity, d.grade) for d in drafts] == [
        ("NUMERIC", "23774", 1, "EXCELLENT"),
        ("READY", UUID, 4, "VERY_GOOD"),  # available 5 - safety 1
    ]
    assert counts.submitted == 2 and counts.pending == 2
    task = ListingTask.objects.get()
    assert task.skus == ["NUMERIC", "READY"] and task.status == "pending"

    again = listings_create(store_id=bm.pk, adapter=fake)  # in flight: not submitted twice
    assert again.submitted == 0 and len(fake.submitted) == 1


@pytest.mark.django_db
def test_polling_binds_created_listings_and_keeps_row_errors_on_the_product(merchant, bm):
    good = make_product(merchant, "GOOD-1", on_hand=3)
    complete(bm, good)
    bad = make_product(merchant, "BAD-1", on_hand=3)
    complete(bm, bad)
    fake = FakeListings()
    counts = listings_create(store_id=bm.pk, adapter=fake)
    task = counts.task

    assert listing_task_poll(task_pk=task.pk, adapter=fake).status == "pending"  # Back Market not done yet
    fake.finish_task(task.task_id, refuse={"BAD-1": "Product not found for product_id"})
    task = listing_task_poll(task_pk=task.pk, adapter=fake)

    assert (task.status, task.created, task.failed, task.pending) == ("succeeded", 1, 1, 0)
    binding = ListingBinding.objects.get(store=bm, product=good)
    assert binding.listing_id and binding.remote_quantity == 2
    assert ListingSettings.objects.get(product=bad).creation_error == "Product not found for product_id"
    assert ListingSettings.objects.get(product=good).creation_error == ""
    kinds = sorted(ListingEvent.objects.values_list("kind", flat=True))
    assert kinds == ["bound", "create_failed", "create_task", "created"]

    fake.submitted.clear()
    retry = listings_create(store_id=bm.pk, adapter=fake)  # the refused one is tried again next hour
    assert [d.sku for d in retry.task and fake.submitted[0]] == ["BAD-1"]


@pytest.mark.django_db
def test_failed_task_and_refused_file_are_recorded(merchant, bm):
    product = make_product(merchant, "ONE", on_hand=1)
    complete(bm, product)
    fake = FakeListings()
    fake.fail_next = [ChannelRejected("Back Market refused the listing file: parameter catalog not found")]
    counts = listings_create(store_id=bm.pk, adapter=fake)
    assert counts.failed == 1 and counts.task is None
    assert ListingEvent.objects.filter(kind="create_failed", message__contains="catalog not found").exists()

    counts = listings_create(store_id=bm.pk, adapter=fake)
    from channels.base import ListingTaskState

    task_id = counts.task.task_id
    fake.tasks[task_id] = ListingTaskState(task_id, finished=True, failed=True, error="bad file")
    task = listing_task_poll(task_pk=counts.task.pk, adapter=fake)
    assert (task.status, task.error, task.failed) == ("failed", "bad file", 1)
    assert ListingSettings.objects.get(product=product).creation_error == "bad file"


@pytest.mark.django_db
def test_creation_takes_only_what_the_hourly_budget_allows(merchant, bm):
    for n in range(6):
        complete(bm, make_product(merchant, f"P-{n}", on_hand=1))
    fake = FakeListings(lines_per_hour=5, quantity_reserve=1)
    counts = listings_create(store_id=bm.pk, adapter=fake)
    assert counts.submitted == 3  # 6 does not fit in 4 (one line stays for quantities); half of it does
    assert counts.pending == 6  # 3 in the task, 3 for the next hourly run
    assert listings_create(store_id=bm.pk, adapter=fake).submitted == 1  # what is left of the budget
