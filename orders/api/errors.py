"""Errors shaped as ShipStation returns them: {"Message": ..., "ModelState": {field: [messages]}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from shipping.core.errors import ApplicationError

INVALID = "The request is invalid."
DENIED = "Authorization has been denied for this request."


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as flat ModelState keys: items[0].sku, shipTo.country."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = "request" if key == "non_field_errors" and not prefix else str(key)
            if isinstance(key, int):  # a list's errors by index
                path = f"{prefix}[{key}]"
            elif prefix and key != "non_field_errors":
                path = f"{prefix}.{name}"
            else:
                path = prefix or name
            for k, v in flatten_errors(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and detail and all(isinstance(v, str) for v in detail):
        out[prefix or "request"] = [str(v) for v in detail]
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                for k, v in flatten_errors(value, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "request"] = [str(detail)]
    return out


def error_body(message: str, model_state: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Message": message}
    if model_state:
        body["ModelState"] = dict(model_state)
    return body


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        fields = {camel(name): list(messages) for name, messages in exc.field_errors.items()}
        return Response(error_body(exc.message, fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: let it be a 500 and reach the logs
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(INVALID, flatten_errors(exc.detail))
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(INVALID, {"request": [str(exc.detail)]})
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.data = error_body(DENIED)
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body(f"Too many requests: try again in {exc.wait or 1:.0f} seconds.")
    elif isinstance(exc, Http404 | exceptions.NotFound):
        response.data = error_body("The requested resource was not found.")
    else:
        detail = getattr(exc, "detail", None)
        response.data = error_body(str(detail) if detail is not None else str(exc))
    return response
