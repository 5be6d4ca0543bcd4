"""schemathesis against /api/schema/: generated requests to every operation, no 5xx, responses as the schema says."""

import base64
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import channel_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(merchant, manual_store, store, api_credentials, django_settings_for_fuzzing):
    channel_order(store, "F1")
    channel_order(manual_store, "F2")
    # As Django's test client does: the app must not close the test's connection after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def django_settings_for_fuzzing(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000  # the fuzzer is not what the quota is for


@pytest.fixture
def auth(api_credentials):
    key, secret = api_credentials
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


# schemathesis' pytest plugin (schema.parametrize) does not run under pytest 9: drive Hypothesis directly.
def test_api_conforms_to_its_schema(api_schema, auth):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")),  # more for a deeper local run
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        )
        def run(case):
            # Every default check but "schema-valid data is accepted": business rules (an unknown carrier,
            # an order that cannot ship, a hold date in the past) rightly answer 400 to well-formed requests.
            case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

        run()
