"""Forms for connecting stores and changing their settings: they validate and shape, services save."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from orders.statuses import OrderStatus

from .base import BaseChannelAdapter
from .models import Store
from .services.stores import SETTINGS_FIELDS

LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
LOGO_MAX_BYTES = 1024 * 1024


def settings_form_class(adapter_cls: type[BaseChannelAdapter], *, secrets_optional: bool = False) -> type[forms.Form]:
    """A form with one field per adapter setting; secrets are write-only (never shown back)."""
    fields: dict[str, forms.Field] = {}
    for setting in adapter_cls.settings_fields:
        required = setting.required and not (secrets_optional and setting.secret)
        if setting.choices:
            field = forms.ChoiceField(
                choices=[("", "—"), *setting.choices] if not required else setting.choices,
                required=required,
                initial=setting.default,
            )
        elif setting.secret:
            field = forms.CharField(widget=forms.PasswordInput(render_value=False), required=required, strip=True)
        elif setting.is_url:
            field = forms.URLField(required=required, assume_scheme="https")
        else:
            field = forms.CharField(required=required, initial=setting.default)
        field.label = setting.label
        field.help_text = setting.help_text
        fields[setting.name] = field
    return type(f"{adapter_cls.__name__}SettingsForm", (forms.Form,), fields)


class StoreNameForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, help_text="Shown in the orders grid; defaults to the channel."
    )


class StoreSettingsForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = list(SETTINGS_FIELDS)
        labels = {
            "company_name": "Company name on packing slips and emails",
            "notify_customer_on_shipment": "Email the customer when an order ships",
            "notify_customer_on_delivery": "Email the customer when a shipment is delivered",
            "import_interval_minutes": "Import orders every (minutes)",
            "auto_accept": "Accept new orders automatically (Back Market)",
        }

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):
            if logo.content_type not in LOGO_TYPES:
                raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")
            if logo.size > LOGO_MAX_BYTES:
                raise ValidationError("The logo must be 1 MB or smaller.")
            from PIL import Image, UnidentifiedImageError

            try:
                Image.open(logo).verify()
            except (UnidentifiedImageError, OSError) as exc:
                raise ValidationError("This file is not an image we can read.") from exc
            logo.seek(0)
        return logo

    def clean_import_interval_minutes(self):
        value = self.cleaned_data["import_interval_minutes"]
        if not 1 <= value <= 24 * 60:
            raise ValidationError("Between 1 minute and 24 hours.")
        return value


class StatusListsForm(forms.Form):
    """ShipStation's custom-store form: five comma lists of case-sensitive store statuses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in OrderStatus.choices:
            self.fields[value] = forms.CharField(
                label=label, required=False, max_length=1000, help_text="Comma separated, case-sensitive."
            )
