"""Telling the stock keeper that orders changed, without importing it.

``settings.ORDER_STOCK_HOOKS`` lists dotted paths of callables (the catalog's
``catalog.services.stock.stock_sync_orders``). Orders services call ``orders_stock_changed`` at the end
of what they do, inside their own transaction, so the stock moves with the order or not at all. This
is a direct call through a setting, not a signal: every call site is explicit, and ``orders`` stays
free of imports from ``catalog`` (which imports ``orders``), as it stays free of ``channels``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.module_loading import import_string


class StockEvent(StrEnum):
    ORDER_IMPORT = "order_import"  # created or changed by an import (or an API upsert)
    ORDER_CHANGE = "order_change"  # a status moved by a person or the API
    CANCELLATION = "cancellation"
    SHIPMENT = "shipment"
    SHIPMENT_VOID = "shipment_void"
    ORDER_DELETED = "order_deleted"  # called before the delete: whatever the orders hold is released


@cache
def _hooks(paths: tuple[str, ...]) -> tuple[Callable[..., object], ...]:
    return tuple(import_string(path) for path in paths)


def orders_stock_changed(
    *,
    order_ids: Iterable[int | None],
    event: StockEvent,
    actor: AbstractBaseUser | None = None,
) -> None:
    """Let the stock follow these orders as they are now (idempotent: call it as often as you like)."""
    ids = sorted({pk for pk in order_ids if pk is not None})
    if not ids:
        return
    for hook in _hooks(tuple(getattr(settings, "ORDER_STOCK_HOOKS", ()))):
        hook(order_ids=ids, event=str(event), actor=actor)
