"""What API v2 endpoints add to orders.api's plumbing: the ``API-Key`` header and ShipStation v2's error body.

ShipStation API v2 authenticates with an ``API-Key`` header; here its value is ``KEY:SECRET``, the same key
and secret API v1 takes as Basic credentials, so one key serves both (and counts against one quota).
Errors are v2's ``{"request_id", "errors": [{"error_source", "error_type", "error_code", "message"}]}``
(docs.shipstation.com, "Error Handling" and "Error Codes"), with ``field_name`` on field errors.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.views import exception_handler

from orders.api.authentication import ApiPrincipal
from orders.api.base import ApiView
from orders.api.errors import flatten_errors
from orders.api.schema import RATE_HEADERS
from shipping.accounts.services import api_key_authenticate
from shipping.core.errors import ApplicationError

from . import serializers as s

HEADER = "API-Key"
KEY_MAX_LENGTH = 64  # ApiKey.key
SOURCE = "ShipStation"  # the error_source ShipStation's own failures carry in API v2's schema
REQUIRED_CODES = frozenset({"required", "null", "blank"})


class ApiKeyHeaderAuthentication(BaseAuthentication):
    """``API-Key: KEY:SECRET``. No header: 401 with a challenge; a wrong key or secret: 401."""

    def authenticate(self, request):
        raw = request.META.get("HTTP_API_KEY")
        if raw is None:
            return None
        key, sep, secret = raw.strip().partition(":")
        if not (sep and key and secret) or len(key) > KEY_MAX_LENGTH or not (key + secret).isprintable():
            raise exceptions.AuthenticationFailed("Send the header API-Key: KEY:SECRET.")
        api_key = api_key_authenticate(key=key, secret=secret)
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key or its secret is wrong, or the key was revoked.")
        return ApiPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return f'{HEADER} realm="api"'  # makes DRF answer 401 (not 403) when the header is missing


class ApiKeyHeaderScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyHeaderAuthentication
    name = "api_keys"  # as ShipStation API v2's own OpenAPI document names it

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": HEADER,
            "description": "`KEY:SECRET`: the API key and its secret, the same pair API v1 takes as Basic "
            "credentials (one quota for both).",
        }


def error(error_type: str, error_code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error_source": SOURCE, "error_type": error_type, "error_code": error_code, "message": message, **extra}


def error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"request_id": str(uuid.uuid4()), "errors": errors}


def _field_error(field: str, message: str, code: str, error_type: str = "validation") -> dict[str, Any]:
    error_code = "field_value_required" if code in REQUIRED_CODES else "invalid_field_value"
    if field == "request":  # not about one field: the body as a whole
        return error(error_type, error_code, message)
    return error(error_type, error_code, f"{field}: {message}", field_name=field)


def _validation_errors(exc: exceptions.ValidationError) -> list[dict[str, Any]]:
    messages = flatten_errors(exc.detail)
    codes = flatten_errors(exc.get_codes())  # the same structure, so the same paths in the same order
    return [
        _field_error(field, message, code)
        for field, field_messages in messages.items()
        for message, code in zip(field_messages, codes.get(field, []), strict=False)
    ]


def v2_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        errors = [
            _field_error(field, message, "invalid", "business_rules")
            for field, messages in exc.field_errors.items()
            for message in messages
        ]
        return Response(error_body(errors or [error("business_rules", "unspecified", exc.message)]), status=400)
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: let it be a 500 and reach the logs
    if isinstance(exc, exceptions.ValidationError):
        errors = _validation_errors(exc)
    elif isinstance(exc, exceptions.ParseError):
        errors = [error("validation", "invalid_object", f"The request body is not valid JSON: {exc.detail}")]
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        errors = [error("security", "unauthorized", str(exc.detail))]
    elif isinstance(exc, exceptions.PermissionDenied):
        errors = [error("security", "forbidden", str(exc.detail))]
    elif isinstance(exc, exceptions.Throttled):
        errors = [
            error("system", "rate_limit_exceeded", f"Too many requests: try again in {exc.wait or 1:.0f} seconds.")
        ]
    elif isinstance(exc, Http404 | exceptions.NotFound):
        errors = [error("validation", "invalid_identifier", "The requested resource was not found.")]
    else:
        detail = getattr(exc, "detail", None)
        errors = [error("validation", "unspecified", str(detail) if detail is not None else str(exc))]
    response.data = error_body(errors)
    return response


class V2ApiView(ApiView):
    """orders.api's view (quota and its headers, JSON only) with the API-Key header and v2's errors."""

    authentication_classes = (ApiKeyHeaderAuthentication,)

    def get_exception_handler(self):
        return v2_exception_handler


# For the schema: what every v2 operation can answer besides success, and the quota headers.
ERROR_RESPONSES = {
    400: OpenApiResponse(s.V2ErrorResponse, description="Invalid request: an error per field at fault (field_name)."),
    401: OpenApiResponse(s.V2ErrorResponse, description="No API-Key header, or a wrong key or secret."),
    404: OpenApiResponse(s.V2ErrorResponse, description="No such resource."),
    429: OpenApiResponse(s.V2ErrorResponse, description="More than the per-minute limit of requests for this API key."),
}
RATE_HEADER_PARAMETERS = [
    OpenApiParameter(
        name,
        type=int,
        location=OpenApiParameter.HEADER,
        description=header["description"],
        response=["200", "204", "400", "404", "429"],
    )
    for name, header in RATE_HEADERS.items()
]


@csrf_exempt
@login_not_required
def v2_not_found(request, *args, **kwargs):
    """Any other path under /api/v2/: a JSON 404 in v2's shape."""
    body = error_body([error("validation", "invalid_identifier", f"No resource at {request.path!r}.")])
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
