"""Serializer fields for ShipStation's wire formats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .dates import parse_date, parse_datetime


@extend_schema_field({"type": "string", "example": "2015-06-29 08:46:27"})
class ApiDateTimeField(serializers.Field):
    """ "2015-06-29 08:46:27" (Pacific unless an offset is given), ISO 8601, or a bare date (midnight)."""

    default_error_messages = {"invalid": "{value} is not a valid date and time (yyyy-mm-dd hh:mm:ss)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=repr(data))
        try:
            return parse_datetime(data)
        except ValueError:
            self.fail("invalid", value=repr(data))

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.DATE)
class ApiDateField(serializers.Field):
    default_error_messages = {"invalid": "{value} is not a valid date (yyyy-mm-dd)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=repr(data))
        try:
            return parse_date(data)
        except ValueError:
            self.fail("invalid", value=repr(data))

    def to_representation(self, value):
        return value


class LooseChoiceField(serializers.ChoiceField):
    """Choices matched without regard to case (clients send OrderDate, orderdate, ASC, asc)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            for choice in self.choices:
                if str(choice).lower() == data.strip().lower():
                    return choice
        return super().to_internal_value(data)


class Money(serializers.DecimalField):
    """A JSON number with up to 4 decimals, as ShipStation's amounts."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def validate_precision(self, value):
        # Clients send binary floats (0.30000000000000004): round them instead of refusing.
        if abs(value) >= 10 ** (self.max_digits - self.decimal_places):
            self.fail("max_whole_digits", max_whole_digits=self.max_digits - self.decimal_places)
        return super().validate_precision(value.quantize(Decimal(1).scaleb(-self.decimal_places), ROUND_HALF_UP))
