import pytest
from django.core.exceptions import ImproperlyConfigured

from channels import registry
from channels.base import BaseChannelAdapter, Capability, ChannelKind

METHOD_FOR = {
    Capability.FETCH_ORDERS: "fetch_orders",
    Capability.ACKNOWLEDGE: "acknowledge",
    Capability.NOTIFY_SHIPMENT: "notify_shipment",
    Capability.CANCEL: "cancel",
    Capability.PUSH_LISTINGS: "push_listing",
    Capability.READ_LISTINGS: "fetch_listings",
    Capability.CREATE_LISTINGS: "submit_listing_drafts",
    Capability.REPRICE: "fetch_competitors",
}


@pytest.mark.parametrize("kind", registry.available_kinds())
def test_every_registered_adapter_implements_what_it_declares(kind):
    cls = registry.get_adapter_class(kind)
    assert cls.kind in ChannelKind.__members__.values()
    for capability in cls.capabilities:
        method = METHOD_FOR[capability]
        assert getattr(cls, method) is not getattr(BaseChannelAdapter, method), f"{kind} lacks {method}"
    for status in cls.default_status_map.values():
        assert status in {"awaiting_payment", "awaiting_shipment", "on_hold", "shipped", "cancelled"}


def test_registry_refuses_duplicates_and_unknown_kinds():
    class Other(BaseChannelAdapter):
        kind = "fake"

    with pytest.raises(ImproperlyConfigured, match="duplicate"):
        registry.register(Other)

    class Bogus(BaseChannelAdapter):
        kind = "ebay"

    with pytest.raises(ImproperlyConfigured, match="not a ChannelKind"):
        registry.register(Bogus)


def test_registry_follows_the_setting(settings):
    settings.CHANNEL_ADAPTERS = ["channels.manual.ManualAdapter"]
    assert registry.available_kinds() == ["manual"]
    with pytest.raises(registry.UnknownChannel):
        registry.get_adapter_class("fake")
