"""HTTP Basic with an API key (username) and its secret (password), as ShipStation's API v1 does."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from shipping.accounts.models import ApiKey, Merchant
from shipping.accounts.services import api_key_authenticate


class ApiPrincipal:
    """Who is calling: an API key, not a person (services get actor=None and source=API)."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.merchant: Merchant = api_key.merchant

    def __str__(self) -> str:
        return f"API key {self.api_key.key}"


class ApiKeyAuthentication(BasicAuthentication):
    www_authenticate_realm = "api"

    def authenticate_credentials(self, userid, password, request=None):
        if not (userid + password).isprintable():  # a NUL byte would reach PostgreSQL as a 500
            raise exceptions.AuthenticationFailed("Authorization has been denied for this request.")
        api_key = api_key_authenticate(key=userid, secret=password)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Authorization has been denied for this request.")
        return ApiPrincipal(api_key), api_key


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "API key as the user name, API secret as the password (`create_api_key` or Team page).",
        }
