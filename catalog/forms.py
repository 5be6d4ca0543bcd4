"""Forms of the catalog pages: they validate and shape; the services save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from .models import Grade, ListingEvent, ListingSettings, ListingSync
from .models.listing import MIN_WARRANTY_MONTHS
from .selectors import LISTING_FILTERS, STOCK_FILTERS
from .services.listing_runs import LISTING_RUNS

MAX_UNITS = 1_000_000  # more than any shelf holds: a bigger number is a typo
CSV_MAX_BYTES = 20 * 1024 * 1024


def _money(label: str, help_text: str = "") -> forms.DecimalField:
    # Two decimals, as Back Market prices are; the model keeps four for other currencies' sake.
    return forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label=label, help_text=help_text
    )


def _plain(value: Decimal | None) -> str:
    """329.0000 as 329.00 in a form (the model keeps four decimals)."""
    if value is None:
        return ""
    return format(
        value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value.normalize(), "f"
    )


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search", help_text="SKU or name")
    store = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Store")
    listing = forms.ChoiceField(
        required=False, label="Listing", choices=[("", "Any listing"), *LISTING_FILTERS.items()]
    )
    stock = forms.ChoiceField(required=False, label="Stock", choices=[("", "Any stock"), *STOCK_FILTERS.items()])

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [(s.pk, s.name) for s in stores]
        if len(self.fields["store"].choices) < 2:  # one store (or none): nothing to choose
            self.fields["store"].widget = forms.HiddenInput()


class ProductForm(forms.Form):
    sku = forms.CharField(max_length=100, label="SKU", help_text="As your marketplaces have it (case does not matter).")
    name = forms.CharField(max_length=500, required=False)
    image_url = forms.URLField(max_length=1000, required=False, assume_scheme="https", label="Image URL")
    weight_grams = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Weight of one unit (grams)"
    )
    cost = _money("Cost of one unit", "What one unit cost you (for your reports; never sent anywhere).")

    def clean_image_url(self):
        url = self.cleaned_data["image_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("An http or https address.")
        return url


class StockAdjustForm(forms.Form):
    mode = forms.ChoiceField(
        label="Adjustment",
        choices=[("change", "Change on hand by (+ or - units)"), ("set", "Set on hand to (a count)")],
        initial="change",
        widget=forms.RadioSelect,
    )
    quantity = forms.IntegerField(min_value=-MAX_UNITS, max_value=MAX_UNITS, label="Units")
    warehouse = forms.TypedChoiceField(coerce=int, label="Warehouse")
    note = forms.CharField(
        max_length=300,
        label="Reason",
        help_text="Why: stock take, damaged unit, found in returns… It is kept with the movement.",
    )

    def __init__(self, *args, warehouses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.warehouses = {w.pk: w for w in warehouses}
        if self.warehouses:
            self.fields["warehouse"].choices = [(w.pk, w.name) for w in warehouses]
            self.fields["warehouse"].initial = next((w.pk for w in warehouses if w.is_default), None)
        else:  # the merchant has no warehouse yet: stock is kept without one
            del self.fields["warehouse"]

    def clean(self):
        data = super().clean()
        quantity, mode = data.get("quantity"), data.get("mode")
        if quantity is not None and mode == "change" and quantity == 0:
            self.add_error("quantity", "A change of 0 changes nothing.")
        if quantity is not None and mode == "set" and quantity < 0:
            self.add_error("quantity", "A count cannot be below 0.")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        """What ``stock_adjust`` takes, from the cleaned data."""
        data = self.cleaned_data
        return {
            "change": data["quantity"] if data["mode"] == "change" else None,
            "on_hand": data["quantity"] if data["mode"] == "set" else None,
            "warehouse": self.warehouses.get(data.get("warehouse")),
            "note": data["note"].strip(),
        }


class ListingSettingsForm(forms.Form):
    """One product's Back Market settings in one store (prefixed with the store, several on a page)."""

    enabled = forms.BooleanField(required=False, label="Sell on this store")
    safety_quantity = forms.IntegerField(
        min_value=0,
        max_value=MAX_UNITS,
        initial=0,
        label="Safety quantity",
        help_text="Units kept back: the quantity sent is what is available minus this.",
    )
    price = _money("Default price", "The price sent with “prices and quantities”, and the repricer's ceiling.")
    min_price = _money("Minimum price", "The repricer never goes below it.")
    backmarket_id = forms.CharField(
        required=False,
        max_length=64,
        label="Back Market product id",
        help_text="The number in the product's backmarket.com address, or its product UUID.",
    )
    grade = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "—"), *Grade.choices], label="Grade"
    )
    warranty_months = forms.IntegerField(
        min_value=MIN_WARRANTY_MONTHS,
        max_value=120,
        initial=MIN_WARRANTY_MONTHS,
        label="Warranty (months)",
        help_text=f"Back Market requires at least {MIN_WARRANTY_MONTHS}.",
    )

    @staticmethod
    def initial_for(settings: ListingSettings | None) -> dict[str, Any]:
        if settings is None:
            return {}
        return {
            "enabled": settings.enabled,
            "safety_quantity": settings.safety_quantity,
            "price": _plain(settings.price),
            "min_price": _plain(settings.min_price),
            "backmarket_id": settings.backmarket_id,
            "grade": settings.grade,
            "warranty_months": settings.warranty_months,
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["backmarket_id"] = data["backmarket_id"].strip()
        return data


class ProductsImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Comma, semicolon or tab separated; UTF-8 (Excel's “CSV UTF-8”)."
    )
    store = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Listing columns are for",
        help_text="Only for files with listing columns (enabled, price, BACKMARKET_…) when you have several "
        "Back Market stores; with one, they go to it.",
    )

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stores = {s.pk: s for s in stores}
        self.fields["store"].choices = [("", "—"), *[(s.pk, s.name) for s in stores]]
        if not self.stores:
            del self.fields["store"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {CSV_MAX_BYTES // (1024 * 1024)} MB: split it.")
        return upload


class ListingEventFilterForm(forms.Form):
    store = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Store")
    kind = forms.ChoiceField(required=False, label="Event", choices=[("", "Every event"), *ListingEvent.Kind.choices])

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", "Every store"), *[(s.pk, s.name) for s in stores]]


class ListingRunForm(forms.Form):
    store = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    action = forms.ChoiceField(choices=[(action, action) for action in LISTING_RUNS])


class ListingSyncForm(forms.Form):
    """A Back Market store's listing switches (the store settings page)."""

    mode = forms.ChoiceField(
        label="Sync listings",
        choices=ListingSync.Mode.choices,
        widget=forms.RadioSelect,
        help_text="Off: nothing is sent to Back Market. Quantities: each listing's quantity follows the "
        "product's available stock (minus its safety quantity) within seconds of a change. Prices and "
        "quantities: the default price is sent too.",
    )
    create_listings = forms.BooleanField(
        required=False,
        label="Create listings every hour",
        help_text="Once an hour, products enabled for this store that have no listing yet are listed on Back "
        "Market (they need a Back Market product id, a grade and a default price).",
    )
    repricer = forms.BooleanField(
        required=False,
        label="Repricer",
        help_text="With the repricer on, prices change only through it, once an hour: it moves each price towards "
        "the buybox, never below the minimum nor above the default price. Quantities still follow stock.",
    )
