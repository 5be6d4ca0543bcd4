"""Remove secrets from anything we log or store about a remote call.

One rule everywhere: a header, query parameter, form field, JSON key, XML element or attribute
whose *name* looks secret has its value replaced by ``[REDACTED]``. Redact before truncating: a
truncated document no longer parses, and the fallbacks below are regex-based.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

_SECRET_NAME = r"passw(?:or)?d|token|secret|api[_-]?key|authori[sz]ation|access[_-]?key"
SECRET_NAME_RE = re.compile(_SECRET_NAME, re.IGNORECASE)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_NAME = rf"(?:[\w.-]+:)?[\w.-]*(?:{_SECRET_NAME})[\w.-]*"  # optional XML namespace prefix
_XML_ELEMENT_RE = re.compile(
    rf"(?P<open><(?P<tag>{_NAME})(?:\s[^<>]*?)?(?<!/)>)(?P<body>.*?)(?P<close></(?P=tag)\s*>)",
    re.IGNORECASE | re.DOTALL,
)
_XML_ATTRIBUTE_RE = re.compile(rf"(?P<pre>\s{_NAME}\s*=\s*)(?P<q>[\"']).*?(?P=q)", re.IGNORECASE | re.DOTALL)
# For JSON we could not parse (e.g. invalid): "secret_key": "value" pairs.
_JSON_PAIR_RE = re.compile(rf"(?P<pre>\"{_NAME}\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"", re.IGNORECASE)
_FORM_RE = re.compile(r"[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*")


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME_RE.search(name))


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {
        name: REDACTED if name.lower() in SECRET_HEADERS or is_secret_name(name) else value
        for name, value in (headers or {}).items()
    }


def redact_json(value: Any) -> Any:
    """Recursively redact a decoded JSON document (empty values are kept: they help debugging)."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_secret_name(str(key)) and item not in (None, "") else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_json(item) for item in value]
    return value


def redact_query_string(query: str) -> str:
    """Redact a query string or form body, keeping every other byte as it was."""
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if sep and value and is_secret_name(unquote_plus(name)):
            part = f"{name}={REDACTED}"
        parts.append(part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """Redact secret query parameters and any password in the userinfo."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, query=redact_query_string(parts.query)))


def redact_xml(text: str) -> str:
    text = _XML_ELEMENT_RE.sub(lambda m: f"{m['open']}{REDACTED}{m['close']}", text)
    return _XML_ATTRIBUTE_RE.sub(lambda m: f"{m['pre']}{m['q']}{REDACTED}{m['q']}", text)


def redact_body(body: str | bytes | None, content_type: str | None = None) -> str | None:
    """Redact a request or response body, by content type or, failing that, by its look."""
    if body is None:
        return None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    kind = (content_type or "").lower()
    stripped = text.lstrip()
    if "json" in kind or stripped[:1] in ("{", "["):
        try:
            return json.dumps(redact_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            return _JSON_PAIR_RE.sub(lambda m: f'{m["pre"]}"{REDACTED}"', text)
    if "xml" in kind or stripped[:1] == "<":
        return redact_xml(text)
    if "x-www-form-urlencoded" in kind or _FORM_RE.fullmatch(text):
        return redact_query_string(text)
    return text
