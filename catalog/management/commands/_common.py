from django.core.management.base import CommandError

from shipping.accounts.models import Merchant


def merchant_and_store(slug: str, store_id: int | None):
    merchant = Merchant.objects.filter(slug=slug).first()
    if merchant is None:
        raise CommandError(f"No merchant with slug {slug!r}.")
    store = None
    if store_id is not None:
        store = merchant.stores.filter(pk=store_id).first()
        if store is None:
            raise CommandError(f"Merchant {slug} has no store {store_id}.")
    return merchant, store
