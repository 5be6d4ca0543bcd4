"""Device identifiers: IMEIs and serial numbers.

An IMEI is exactly 15 digits with a valid Luhn check digit; python-stdnum's own imei.validate()
also accepts 14 and 16 digits, so the length rule is ours. Anything else is a serial number.
"""

import re

from stdnum import luhn

_SEPARATORS = re.compile(r"[\s\-./]")
_IMEI_CANDIDATE = re.compile(r"(?<!\d)(\d[\d \-]{13,20}\d)(?!\d)")


def compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").strip()


def is_valid_imei(value: str) -> bool:
    digits = compact(value)
    return len(digits) == 15 and digits.isdigit() and digits != "0" * 15 and luhn.is_valid(digits)


def normalise_serial(value: str) -> str:
    """Serial numbers have no standard: strip separators and spaces, upper-case."""
    return compact(value).upper()


def classify(value: str) -> tuple[str, str]:
    """("imei", digits) for a valid IMEI, else ("serial", normalised serial)."""
    if is_valid_imei(value):
        return "imei", compact(value)
    return "serial", normalise_serial(value)


def imeis_in_text(text: str) -> list[str]:
    """Every valid IMEI in free text (Internal Notes), in order, without duplicates."""
    found: list[str] = []
    for match in _IMEI_CANDIDATE.finditer(text or ""):
        digits = compact(match.group(1))
        if is_valid_imei(digits) and digits not in found:
            found.append(digits)
    return found
