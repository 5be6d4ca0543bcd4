"""What every API view shares: Basic auth by API key, the per-key quota and its headers, ShipStation errors."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from shipping.accounts.models import Merchant

from .authentication import ApiKeyAuthentication
from .errors import api_exception_handler
from .ratelimit import ApiKeyRateThrottle


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError("JSON strings must be valid Unicode (no lone surrogates).") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class StrictJSONParser(JSONParser):
    """JSON whose strings the database can store: "\\ud800" parses in Python but no database takes it."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_text(data)
        return data


class ApiView(APIView):
    # Basic auth only: no session, so no CSRF; DRF views are exempt from LoginRequiredMiddleware.
    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsAuthenticated,)
    throttle_classes = (ApiKeyRateThrottle,)
    renderer_classes = (JSONRenderer,)
    parser_classes = (StrictJSONParser,)

    @property
    def merchant(self) -> Merchant:
        return self.request.user.merchant

    def get_exception_handler(self):
        return api_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        quota = getattr(request, "rate_quota", None)
        if quota is not None:
            for name, value in quota.headers().items():
                response[name] = value
        return response


def page_of(qs: QuerySet, *, page: int, page_size: int) -> tuple[list[Any], int, int]:
    """One page of a queryset, with the total and the page count (ShipStation's envelope)."""
    total = qs.count()
    start = (page - 1) * page_size
    rows = list(qs[start : start + page_size]) if start < total else []
    return rows, total, math.ceil(total / page_size)
