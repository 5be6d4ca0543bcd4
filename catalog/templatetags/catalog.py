"""``{% load catalog %}{% unknown_skus order as skus %}``: the order's SKUs that are not in the catalog.

For the order page (the UI step): stock cannot follow a line whose SKU the catalog does not know.
"""

from django import template

from ..selectors import catalog_in_use, order_lines_unknown_sku, unknown_skus_for_order

register = template.Library()


@register.simple_tag
def unknown_skus(order) -> list[str]:
    return unknown_skus_for_order(order=order)


@register.simple_tag
def catalog_flags(order) -> list[str]:
    """The order page's flag: SKUs not in the catalog, but only for a merchant who keeps one (a merchant
    without products does not track stock, and every line would be flagged)."""
    if not catalog_in_use(merchant_id=order.merchant_id):
        return []
    return unknown_skus_for_order(order=order)


@register.simple_tag
def unknown_sku_line_ids(order) -> set[int]:
    """Ids of the order's lines to flag "not in the catalog"."""
    return order_lines_unknown_sku(merchant=order.merchant, order_ids=[order.pk]).get(order.pk, set())
