"""API clients for the catalog endpoints: v1 with Basic credentials, v2 with the API-Key header."""

import json

import pytest
from django.test import Client

from orders.models import Warehouse
from shipping.accounts.services import api_key_create
from tests.api.conftest import Api
from tests.factories import MerchantFactory


class ApiV2:
    """Speaks to /api/v2 as a ShipStation API v2 client does: the API-Key header, snake_case JSON."""

    def __init__(self, client: Client, key: str | None, secret: str | None) -> None:
        self.client = client
        self.headers = {} if key is None else {"HTTP_API_KEY": f"{key}:{secret}"}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(f"/api/v2{path}", params or {}, **self.headers)

    def post(self, path: str, body=None, raw: str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(f"/api/v2{path}", data, content_type="application/json", **self.headers)


@pytest.fixture
def api_credentials(merchant):
    api_key, secret = api_key_create(merchant=merchant, name="tests")
    return api_key.key, secret


@pytest.fixture
def api(client, api_credentials):
    return Api(client, *api_credentials)


@pytest.fixture
def v2(api_credentials):
    return ApiV2(Client(), *api_credentials)


@pytest.fixture
def other_merchant(db):
    return MerchantFactory()


@pytest.fixture
def other_credentials(other_merchant):
    api_key, secret = api_key_create(merchant=other_merchant)
    return api_key.key, secret


@pytest.fixture
def other_api(other_credentials):
    return Api(Client(), *other_credentials)


@pytest.fixture
def other_v2(other_credentials):
    return ApiV2(Client(), *other_credentials)


@pytest.fixture
def backroom(merchant, warehouse):
    """A second warehouse of the merchant (the default one is ``warehouse``)."""
    return Warehouse.objects.create(merchant=merchant, name="Backroom")


def v2_errors(response) -> list[dict]:
    """The errors of a v2 error body, checking its shape on the way."""
    body = response.json()
    assert set(body) == {"request_id", "errors"}, body
    assert len(body["request_id"]) == 36
    for error in body["errors"]:
        assert {"error_source", "error_type", "error_code", "message"} <= set(error), error
        assert error["error_source"] == "ShipStation"
    return body["errors"]
