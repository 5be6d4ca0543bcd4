"""ShipStation's date formats: "2015-06-29T08:46:27.0000000" (no offset) for instants, "2015-06-29" for days.

ShipStation reads and writes wall-clock times in US Pacific time (reference §2.1); API_TIME_ZONE
keeps that default so clients that convert to Pacific before asking keep getting the right window.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%m/%d/%Y %H:%M:%S")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
# .NET writes up to 7 fractional digits; Python reads at most 6.
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def api_zone() -> ZoneInfo:
    return _zone(settings.API_TIME_ZONE)


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    local = timezone.localtime(value, api_zone()) if timezone.is_aware(value) else value
    return local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def format_date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = timezone.localtime(value, api_zone()).date() if timezone.is_aware(value) else value.date()
    return value.isoformat()


def _clean(value: str) -> str:
    text = _FRACTION.sub(r"\1", (value or "").strip())
    return text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text


def _datetime_or_none(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _date_or_none(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_datetime(value: str) -> datetime:
    """An aware datetime from what ShipStation clients send; naive values are API_TIME_ZONE wall-clock time.

    Raises ValueError for anything else.
    """
    text = _clean(value)
    parsed = _datetime_or_none(text)
    if parsed is None:
        day = _date_or_none(text)
        if day is None:
            raise ValueError(f"{value!r} is not a date and time")
        parsed = datetime.combine(day, time.min)
    if not 1900 <= parsed.year <= 9998:
        raise ValueError(f"{value!r} is out of range")
    return parsed.replace(tzinfo=api_zone()) if timezone.is_naive(parsed) else parsed


def parse_date(value: str) -> date:
    """A calendar day; a full timestamp ("2015-06-30T00:00:00.0000000") counts as its day."""
    text = _clean(value)
    day = _date_or_none(text)
    if day is None:
        parsed = _datetime_or_none(text)
        if parsed is None:
            raise ValueError(f"{value!r} is not a date")
        day = timezone.localtime(parsed, api_zone()).date() if timezone.is_aware(parsed) else parsed.date()
    if not 1900 <= day.year <= 9998:
        raise ValueError(f"{value!r} is out of range")
    return day


def day_start(value: date) -> datetime:
    """Midnight at the start of that day, in the API's time zone."""
    return datetime.combine(value, time.min, tzinfo=api_zone())
