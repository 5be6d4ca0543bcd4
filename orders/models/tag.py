"""Tags: a merchant's own labels for orders (ShipStation's tags), each with a colour.

Tags are [app]-owned: an import never adds or removes an order's tags.
"""

from __future__ import annotations

import re

from django.db import models
from django.db.models.functions import Lower

COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")  # use fullmatch


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a "#RRGGBB" colour (0 black .. 1 white)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def text_color_on(color: str) -> str:
    """Black or white, whichever contrasts more with the background ``color`` (WCAG contrast ratio)."""
    lum = relative_luminance(color)
    on_black = (lum + 0.05) / 0.05
    on_white = 1.05 / (lum + 0.05)
    return "#000000" if on_black >= on_white else "#FFFFFF"


class Tag(models.Model):
    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7)  # "#RRGGBB", upper case (orders.services.tags checks it)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name"), "id"]
        constraints = [
            models.UniqueConstraint("merchant", Lower("name"), name="tag_unique_name_per_merchant"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def chip_color(self) -> str:
        """The colour to paint: the tag's when it is a "#RRGGBB" (it goes into a style attribute), else grey."""
        return self.color if COLOR_RE.fullmatch(self.color or "") else "#9E9E9E"

    @property
    def text_color(self) -> str:
        """The chip's text colour: black or white, whichever contrasts more with chip_color (WCAG)."""
        return text_color_on(self.chip_color)
