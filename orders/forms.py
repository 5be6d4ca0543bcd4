from django import forms

from .carriers import CARRIERS


class InternalNotesForm(forms.Form):
    internal_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10000,
        label="Internal notes",
        help_text="Only your team sees these. IMEIs typed here go to the lines in order.",
    )


class LineIdentifierForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    identifier = forms.CharField(required=False, max_length=120, label="IMEI or serial number")


class ShipForm(forms.Form):
    carrier_code = forms.ChoiceField(label="Carrier", choices=[(c.code, c.name) for c in CARRIERS])
    service_code = forms.ChoiceField(
        label="Service",
        required=False,
        choices=[("", "—"), *[(s.code, f"{c.name}: {s.name}") for c in CARRIERS for s in c.services]],
    )
    tracking_number = forms.CharField(required=False, max_length=100)
    generate_tracking = forms.BooleanField(required=False, label="Generate a tracking number (own fleet, Other)")
    weight_grams = forms.DecimalField(
        required=False, min_value=1, max_digits=10, decimal_places=2, label="Weight (grams)"
    )
    carrier_fee = forms.DecimalField(required=False, min_value=0, max_digits=10, decimal_places=2)
    note_to_buyer = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.line_fields = []
        for line, remaining in lines:
            name = f"qty_{line.pk}"
            self.fields[name] = forms.IntegerField(
                min_value=0,
                max_value=remaining,
                initial=remaining,
                required=False,
                label=f"{line.sku or line.name} (of {remaining})",
            )
            self.line_fields.append((line, name))

    def clean(self):
        data = super().clean()
        if not data.get("tracking_number") and not data.get("generate_tracking"):
            self.add_error("tracking_number", "Enter the tracking number, or generate one.")
        return data

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[name] for line, name in self.line_fields if self.cleaned_data.get(name)}


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        help_text="Order number, customer, email, SKU, tracking number or IMEI",
    )
    store = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Store")
    carrier = forms.ChoiceField(required=False, choices=[("", "Any carrier"), *[(c.code, c.name) for c in CARRIERS]])
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", "All stores"), *[(s.pk, s.name) for s in stores]]


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("labels", "Print labels"),
            ("packing_slips", "Print packing slips"),
            ("ship", "Mark shipped"),
            ("hold", "Hold"),
        ]
    )
    orders = forms.TypedMultipleChoiceField(coerce=int, choices=())
    # Only for "mark shipped": carriers whose tracking numbers the app makes.
    carrier_code = forms.ChoiceField(
        required=False, label="Ship with", choices=[(c.code, c.name) for c in CARRIERS if c.self_labelled]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ids: the service checks they are this merchant's.
        self.fields["orders"].valid_value = lambda value: str(value).isdigit()
