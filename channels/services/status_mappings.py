"""A store's status mapping, also as ShipStation's custom-store form shows it: five comma lists."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from orders.statuses import OrderStatus
from shipping.core.errors import ApplicationError

from ..models import StatusMapping, Store


def status_mapping_lists(*, store: Store) -> dict[str, str]:
    """Our status -> "Paid, Ready" (the store's own values, case-sensitive, comma separated)."""
    lists: dict[str, list[str]] = {status: [] for status in OrderStatus.values}
    for external, status in store.status_mappings.order_by("id").values_list("external_status", "status"):
        lists[status].append(external)
    return {status: ", ".join(values) for status, values in lists.items()}


@transaction.atomic
def status_mappings_replace(*, store: Store, lists: Mapping[str, str]) -> None:
    """Replace the mapping from five comma lists; a value may appear under one status only."""
    unknown = set(lists) - set(OrderStatus.values)
    if unknown:
        raise ApplicationError(f"Unknown order status: {', '.join(sorted(unknown))}.")
    seen: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for status, text in lists.items():
        for value in (part.strip() for part in (text or "").split(",")):
            if not value:
                continue
            if value in seen and seen[value] != status:
                errors.setdefault(status, []).append(
                    f"{value!r} is already mapped to {OrderStatus(seen[value]).label}."
                )
            seen[value] = status
    if errors:
        raise ApplicationError("A store status can mean only one order status.", field_errors=errors)
    store.status_mappings.all().delete()
    StatusMapping.objects.bulk_create(
        [StatusMapping(store=store, external_status=value, status=status) for value, status in seen.items()]
    )
