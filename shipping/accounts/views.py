"""Team and API keys: owners only."""

from django import forms
from django.contrib import messages
from django.contrib.auth.password_validation import validate_password
from django.http import Http404
from django.shortcuts import redirect, render

from shipping.core.errors import ApplicationError

from .decorators import role_required
from .models import ApiKey, Role
from .services import api_key_create, api_key_revoke, member_add


class MemberForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.WAREHOUSE)
    password = forms.CharField(widget=forms.PasswordInput, help_text="A first password; tell it to them privately.")

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="What uses it, e.g. the ERP.")


@role_required(Role.OWNER)
def team_view(request):
    merchant = request.merchant
    action = request.POST.get("action") if request.method == "POST" else None
    member_form = MemberForm(request.POST if action == "member" else None)
    key_form = ApiKeyForm(request.POST if action == "key" else None)
    new_secret = None
    try:
        if action == "member" and member_form.is_valid():
            membership = member_add(merchant=merchant, **member_form.cleaned_data)
            messages.success(request, f"{membership.user.email} can now log in as {membership.get_role_display()}.")
            return redirect("team")
        if action == "key" and key_form.is_valid():
            api_key, new_secret = api_key_create(merchant=merchant, name=key_form.cleaned_data["name"])
            key_form = ApiKeyForm()
        if action == "revoke":
            api_key_revoke(merchant=merchant, key_id=int(request.POST.get("key", 0)))
            messages.success(request, "API key revoked.")
            return redirect("team")
    except ApplicationError as exc:
        for field, problems in (exc.field_errors or {"__all__": [exc.message]}).items():
            for problem in problems:
                member_form.add_error(field if field in member_form.fields else None, problem)
    except (ApiKey.DoesNotExist, ValueError) as exc:
        raise Http404("No such key.") from exc
    return render(
        request,
        "accounts/team.html",
        {
            "members": merchant.memberships.select_related("user").order_by("user__email"),
            "api_keys": merchant.api_keys.order_by("-created_at"),
            "member_form": member_form,
            "key_form": key_form,
            "new_secret": new_secret,
            "new_key": api_key.key if new_secret else None,
        },
    )
