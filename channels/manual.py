"""Manual store: orders created in the UI or through the API; nothing to fetch or notify."""

from .base import BaseChannelAdapter, ChannelKind


class ManualAdapter(BaseChannelAdapter):
    kind = ChannelKind.MANUAL.value
    label = "Manual orders"
    capabilities = frozenset()
    settings_fields = ()
    default_status_map = {}
