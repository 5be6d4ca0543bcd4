import pytest
from django.urls import reverse

from shipping.accounts.models import ApiKey, Membership, Role
from shipping.accounts.services import api_key_authenticate
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_owner_adds_a_warehouse_user_who_can_log_in(client_owner, client, merchant):
    response = client_owner.post(
        reverse("team"),
        {"action": "member", "email": "Ana@Example.com", "role": "warehouse", "password": "pack-and-ship-2026"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="ana@example.com")
    assert (membership.merchant, membership.role) == (merchant, Role.WAREHOUSE)
    weak = client_owner.post(
        reverse("team"), {"action": "member", "email": "bo@example.com", "role": "staff", "password": "123"}
    ).content.decode()
    assert "too short" in weak


def test_api_key_secret_is_shown_once_and_revoking_stops_it(client_owner, merchant):
    page = client_owner.post(reverse("team"), {"action": "key", "name": "ERP"}).content.decode()
    api_key = ApiKey.objects.get(merchant=merchant)
    secret = page.split("Secret <code>")[1].split("</code>")[0]
    assert api_key_authenticate(key=api_key.key, secret=secret) is not None
    assert secret not in client_owner.get(reverse("team")).content.decode()

    client_owner.post(reverse("team"), {"action": "revoke", "key": api_key.pk})
    assert api_key_authenticate(key=api_key.key, secret=secret) is None


def test_only_owners_and_only_their_own_keys(client, merchant):
    other_key = ApiKey.objects.create(merchant=MembershipFactory().merchant, key="k", secret_hash="h")
    client.force_login(MembershipFactory(merchant=merchant, role=Role.STAFF).user)
    assert client.get(reverse("team")).status_code == 403
    client.force_login(MembershipFactory(merchant=merchant, role=Role.OWNER).user)
    assert client.post(reverse("team"), {"action": "revoke", "key": other_key.pk}).status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None
