"""Building an adapter for a store: settings, the shared rate limiter, and the call log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings as settings_module

from shipping.accounts.models import Merchant
from shipping.core.http import CallRecord
from shipping.core.ratelimit import get_rate_limiter

from ..base import AdapterContext, BaseChannelAdapter
from ..models import ChannelCall, Store
from ..registry import get_adapter_class


def _call_logger(store_id: int) -> Callable[[CallRecord], None]:
    def log(record: CallRecord) -> None:
        ChannelCall.objects.create(
            store_id=store_id,
            method=record.method,
            url=record.url,
            status_code=record.status_code,
            duration_ms=max(int(record.duration_ms), 0),
            request_headers=dict(record.request_headers or {}),
            request_body=record.request_body or "",
            response_body=record.response_body or "",
            error=record.error or "",
            request_id=(record.request_id or "")[:200],
        )

    return log


def adapter_context(
    *,
    merchant: Merchant,
    settings: Mapping[str, Any],
    store_key: str,
    store_id: int | None = None,
    kind: str = "",
) -> AdapterContext:
    return AdapterContext(
        settings=dict(settings),
        store_key=store_key,
        merchant_name=merchant.company_name or merchant.name,
        merchant_email=merchant.contact_email,
        call_logger=_call_logger(store_id) if store_id else None,
        rate_limiter=get_rate_limiter(),
        http_timeout=(settings_module.CHANNEL_HTTP_CONNECT_TIMEOUT, settings_module.CHANNEL_HTTP_READ_TIMEOUT),
        limits=dict(getattr(settings_module, "CHANNEL_LIMITS", {}).get(kind, {})) if kind else {},
    )


def adapter_for_store(store: Store) -> BaseChannelAdapter:
    cls = get_adapter_class(store.kind)
    context = adapter_context(
        merchant=store.merchant,
        settings={**store.config, **store.credentials},
        store_key=f"store:{store.pk}",
        store_id=store.pk,
        kind=store.kind,
    )
    return cls(context)
