from django.core.management.base import CommandError

from channels.models import Store


def back_market_store(store_id: int) -> Store:
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise CommandError(f"No store with id {store_id}.")
    if store.kind != "back_market":
        raise CommandError(f"Store {store_id} is a {store.get_kind_display()} store; listing sync is for Back Market.")
    return store
