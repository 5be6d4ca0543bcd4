import pytest

from shipping.core.errors import (
    ApplicationError,
    CapabilityNotSupported,
    RemoteAuthError,
    RemoteDataError,
    RemoteError,
    RemoteRateLimited,
    RemoteRejected,
    RemoteUnavailable,
)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (RemoteAuthError("no"), False),
        (RemoteRateLimited("slow down", retry_after=3), True),
        (RemoteUnavailable("down", ambiguous=False), True),
        (RemoteRejected("bad"), False),
        (RemoteDataError("weird"), False),
        (CapabilityNotSupported("cannot"), False),
    ],
)
def test_every_remote_error_says_whether_to_retry(error, retryable):
    assert isinstance(error, RemoteError)
    assert error.retryable is retryable


def test_body_is_kept_verbatim_but_truncated():
    body = " line one\n\t<b>é</b> "
    assert RemoteRejected(body, status_code=400, body=body).body == body
    assert RemoteRejected("x", body="a" * 25_000).body == "a" * 10_000


def test_message_status_and_str():
    error = RemoteRejected("Invalid carrier", status_code=422)
    assert error.message == "Invalid carrier"
    assert error.status_code == 422
    assert str(error) == "HTTP 422: Invalid carrier"
    assert str(RemoteDataError("missing id")) == "missing id"


def test_rate_limited_and_unavailable_attributes():
    assert RemoteRateLimited("x", retry_after=-5).retry_after == 0.0
    assert RemoteRateLimited("x", retry_after="2.5").retry_after == 2.5
    assert RemoteUnavailable("x", ambiguous=True).ambiguous is True
    with pytest.raises(TypeError):
        RemoteUnavailable("x")  # ambiguous is required: every raiser must decide


def test_application_error():
    error = ApplicationError("Cannot ship", field_errors={"carrier": ["Required."]}, code="carrier_missing")
    assert error.message == "Cannot ship"
    assert error.field_errors == {"carrier": ["Required."]}
    assert error.code == "carrier_missing"
    assert ApplicationError("x").field_errors == {}
    assert ApplicationError("x").code is None
