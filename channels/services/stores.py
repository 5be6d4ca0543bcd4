"""Connecting stores and keeping their settings: credentials checked live, secrets encrypted."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import urlparse

from django.db import IntegrityError, transaction

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..base import BaseChannelAdapter, ChannelAuthError, ChannelError
from ..models import StatusMapping, Store
from ..registry import UnknownChannel, get_adapter_class
from .adapters import adapter_context


def _adapter_class(kind: str) -> type[BaseChannelAdapter]:
    try:
        return get_adapter_class(kind)
    except UnknownChannel as exc:
        raise ApplicationError(str(exc)) from exc


def store_settings_validate(
    *, adapter_cls: type[BaseChannelAdapter], options: Mapping[str, str | None], partial: bool = False
) -> tuple[dict[str, str], dict[str, str]]:
    """Split and check adapter options: returns (config, credentials) or raises with field errors."""
    known = {field.name for field in adapter_cls.settings_fields}
    errors: dict[str, list[str]] = {}
    for name, value in options.items():
        if value not in (None, "") and name not in known:
            errors.setdefault(name, []).append(f"{adapter_cls.label} has no setting {name!r}.")
    config: dict[str, str] = {}
    credentials: dict[str, str] = {}
    for field in adapter_cls.settings_fields:
        value = options.get(field.name)
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            if partial:
                continue
            value = field.default
        if value in (None, ""):
            if field.required:
                errors.setdefault(field.name, []).append(f"{field.label} is required.")
            continue
        if field.choices and value not in {choice for choice, _ in field.choices}:
            allowed = ", ".join(choice for choice, _ in field.choices)
            errors.setdefault(field.name, []).append(f"{field.label} must be one of: {allowed}.")
        if field.is_url:
            parsed = urlparse(value)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                errors.setdefault(field.name, []).append(f"{field.label} must be an http(s) URL.")
        (credentials if field.secret else config)[field.name] = value
    if not partial:
        for name, messages in adapter_cls.validate_settings({**config, **credentials}).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ApplicationError("Some settings are not valid.", field_errors=errors)
    return config, credentials


def store_test_connection(
    *, merchant: Merchant, adapter_cls: type[BaseChannelAdapter], config: Mapping, credentials: Mapping
) -> None:
    """Ask the marketplace whether these settings work; raise a message a merchant can act on."""
    key = hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest()[:16]
    adapter = adapter_cls(
        adapter_context(merchant=merchant, settings={**config, **credentials}, store_key=f"connect:{key}")
    )
    try:
        adapter.test_connection()
    except ChannelAuthError as exc:
        raise ApplicationError(f"{adapter_cls.label} refused these credentials: {exc.message}") from exc
    except ChannelError as exc:
        raise ApplicationError(f"Could not check the connection to {adapter_cls.label}: {exc.message}") from exc


def status_mappings_seed(*, store: Store, adapter_cls: type[BaseChannelAdapter]) -> None:
    StatusMapping.objects.bulk_create(
        [
            StatusMapping(store=store, external_status=external, status=status)
            for external, status in adapter_cls.default_status_map.items()
        ],
        ignore_conflicts=True,
    )


def store_connect(
    *, merchant: Merchant, kind: str, name: str = "", options: Mapping[str, str | None], check: bool = True
) -> Store:
    adapter_cls = _adapter_class(kind)
    config, credentials = store_settings_validate(adapter_cls=adapter_cls, options=options)
    name = (name or adapter_cls.label).strip()[:100]
    if Store.objects.filter(merchant=merchant, name=name).exists():
        raise ApplicationError(f"You already have a store named {name!r}.", field_errors={"name": ["Taken."]})
    if check:
        store_test_connection(merchant=merchant, adapter_cls=adapter_cls, config=config, credentials=credentials)
    try:
        with transaction.atomic():
            store = Store.objects.create(
                merchant=merchant,
                kind=kind,
                name=name,
                config=config,
                credentials=credentials,
                company_name=merchant.company_name or merchant.name,
            )
            status_mappings_seed(store=store, adapter_cls=adapter_cls)
    except IntegrityError as exc:
        raise ApplicationError(f"You already have a store named {name!r}.") from exc
    return store


def store_update_credentials(*, store: Store, options: Mapping[str, str | None], check: bool = True) -> Store:
    """New token or password: checked live, then the store imports again."""
    adapter_cls = _adapter_class(store.kind)
    config, credentials = store_settings_validate(adapter_cls=adapter_cls, options=options, partial=True)
    config = {**store.config, **config}
    credentials = {**store.credentials, **credentials}
    store_settings_validate(adapter_cls=adapter_cls, options={**config, **credentials})
    if check:
        store_test_connection(merchant=store.merchant, adapter_cls=adapter_cls, config=config, credentials=credentials)
    store.config = config
    store.credentials = credentials
    store.needs_new_credentials = False
    store.credentials_message = ""
    store.save(update_fields=["config", "credentials", "needs_new_credentials", "credentials_message", "updated_at"])
    return store


def store_mark_needs_credentials(*, store_id: int, message: str) -> None:
    """The marketplace refused our credentials: stop importing and tell the merchant what to do."""
    Store.objects.filter(pk=store_id).update(needs_new_credentials=True, credentials_message=message[:2000])


def store_set_active(*, store: Store, active: bool) -> Store:
    store.is_active = active
    store.save(update_fields=["is_active", "updated_at"])
    return store


SETTINGS_FIELDS = (
    "name",
    "company_name",
    "logo",
    "notify_customer_on_shipment",
    "notify_customer_on_delivery",
    "import_interval_minutes",
    "auto_accept",
)


def store_update_settings(*, store: Store, values: Mapping) -> Store:
    """Name, branding, notifications, import interval and auto-accept (credentials have their own service)."""
    name = (values.get("name") or store.name).strip()
    if Store.objects.filter(merchant=store.merchant, name=name).exclude(pk=store.pk).exists():
        raise ApplicationError(f"You already have a store named {name!r}.", field_errors={"name": ["Taken."]})
    for field in SETTINGS_FIELDS:
        if field in values and not (field == "logo" and values[field] is None):
            setattr(store, field, values[field] if field != "name" else name)
    if values.get("logo") is False:  # the form's "clear" checkbox
        store.logo = ""
    store.save()
    return store
