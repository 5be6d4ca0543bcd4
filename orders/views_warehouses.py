"""Ship-from warehouses (owners): the addresses labels are printed with."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from shipping.accounts.decorators import role_required
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError

from .models import Warehouse
from .selectors import warehouse_list
from .services.warehouses import warehouse_save

ADDRESS = ("name", "company", "street1", "street2", "city", "state", "postal_code", "country", "phone")


class WarehouseForm(forms.ModelForm):
    class Meta:
        model = Warehouse
        fields = ["name", *[f"address_{part}" for part in ADDRESS], "is_default"]
        labels = {
            "name": "Warehouse name",
            "address_name": "Contact name",
            "address_company": "Company",
            "address_street1": "Street",
            "address_street2": "Street (line 2)",
            "address_city": "City",
            "address_state": "State / region",
            "address_postal_code": "Postal code",
            "address_country": "Country (2 letters, e.g. FR)",
            "address_phone": "Phone",
            "is_default": "Default ship-from address",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for part in ("name", "street1", "city", "postal_code", "country"):  # what a carrier needs on a label
            self.fields[f"address_{part}"].required = True

    def clean_address_country(self):
        country = self.cleaned_data["address_country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError("Two letters, the ISO country code (FR, DE, US...).")
        return country


@role_required(Role.OWNER)
def warehouse_list_view(request, warehouse_id: int | None = None):
    warehouses = warehouse_list(merchant=request.merchant)
    editing = warehouses.filter(pk=warehouse_id).first() if warehouse_id else None
    if warehouse_id and editing is None:
        raise Http404("No such warehouse.")
    form = WarehouseForm(request.POST if request.method == "POST" else None, instance=editing)
    if form.is_valid():
        try:
            saved = warehouse_save(merchant=request.merchant, data=dict(form.cleaned_data), warehouse=editing)
        except ApplicationError as exc:
            for field, problems in (exc.field_errors or {None: [exc.message]}).items():
                for problem in problems:
                    form.add_error(field, problem)
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("warehouses")
    return render(request, "orders/warehouses.html", {"warehouses": warehouses, "form": form, "editing": editing})
