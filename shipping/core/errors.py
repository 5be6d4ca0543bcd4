"""Errors raised by every client of a remote system, and typed errors of our own services.

Retry decisions read only ``retryable`` and, for ``RemoteUnavailable``, ``ambiguous``: a caller
never inspects status codes or messages to decide whether to try again.
"""

from __future__ import annotations

from typing import ClassVar

BODY_LIMIT = 10_000  # characters of a remote body kept on an error


def truncate(text: str | None, limit: int = BODY_LIMIT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit]


class RemoteError(Exception):
    """A remote system failed us. ``body`` is the raw response text, verbatim (truncated)."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, status_code: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = truncate(body)

    def __str__(self) -> str:
        return self.message if self.status_code is None else f"HTTP {self.status_code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class RemoteAuthError(RemoteError):
    """Credentials refused (401/403): retrying cannot help until a human fixes them."""


class RemoteRateLimited(RemoteError):
    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        status_code: int | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = max(0.0, float(retry_after))


class RemoteUnavailable(RemoteError):
    """5xx, timeout or connection failure.

    ``ambiguous`` is True when the request may have been processed although we saw no success
    (a non-idempotent request that reached the server): the caller must re-read the remote state
    before sending it again, or it may e.g. ship twice. Required, so every raiser decides.
    """

    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        ambiguous: bool,
        status_code: int | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.ambiguous = ambiguous


class RemoteRejected(RemoteError):
    """The remote refused the request (4xx other than auth/429); ``message`` is its own words."""


class RemoteDataError(RemoteError):
    """The remote answered with something we cannot map (not JSON, missing fields, ...)."""


class CapabilityNotSupported(RemoteError):
    """The channel has no way to do what was asked (e.g. no tracking upload)."""


class ApplicationError(Exception):
    """A typed error of our own services, shown to the user (forms, API 400 bodies)."""

    def __init__(
        self,
        message: str,
        *,
        field_errors: dict[str, list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors: dict[str, list[str]] = field_errors or {}
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"
