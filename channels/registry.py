"""The explicit list of adapters, from settings.CHANNEL_ADAPTERS (no discovery, no overriding)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import BaseChannelAdapter, ChannelKind

_ADAPTERS: dict[str, type[BaseChannelAdapter]] = {}


class UnknownChannel(LookupError):
    pass


def register(cls: type[BaseChannelAdapter]) -> type[BaseChannelAdapter]:
    if cls.kind not in ChannelKind.__members__.values():
        raise ImproperlyConfigured(f"{cls.__name__}.kind {cls.kind!r} is not a ChannelKind")
    if cls.kind in _ADAPTERS and _ADAPTERS[cls.kind] is not cls:
        raise ImproperlyConfigured(f"duplicate channel adapter for {cls.kind!r}")
    _ADAPTERS[cls.kind] = cls
    return cls


def load_from_settings() -> None:
    _ADAPTERS.clear()
    for path in settings.CHANNEL_ADAPTERS:
        register(import_string(path))


def get_adapter_class(kind: str) -> type[BaseChannelAdapter]:
    try:
        return _ADAPTERS[kind]
    except KeyError:
        raise UnknownChannel(
            f"No adapter for channel {kind!r}; available: {', '.join(sorted(_ADAPTERS)) or 'none'}"
        ) from None


def available_kinds() -> list[str]:
    return sorted(_ADAPTERS)


def _reload_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting == "CHANNEL_ADAPTERS":
        load_from_settings()


def connect_signals() -> None:
    from django.test.signals import setting_changed

    setting_changed.connect(_reload_on_setting_change, dispatch_uid="channels.registry.reload")
