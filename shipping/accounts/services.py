"""Tenancy services: merchants, members, API keys."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from shipping.core.errors import ApplicationError

from .models import ApiKey, Membership, Merchant, Role


def _hash_secret(secret: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def merchant_create_or_update(*, slug: str, email: str, password: str, name: str = "") -> Merchant:
    """Create the merchant and its owner login, or bring both up to date (idempotent)."""
    merchant, _ = Merchant.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.replace("-", " ").title(), "contact_email": email}
    )
    if not merchant.contact_email:
        merchant.contact_email = email
        merchant.save(update_fields=["contact_email"])
    user_model = get_user_model()
    user = user_model.objects.filter(username=email).first()
    if user is None:
        user = user_model.objects.create_user(username=email, email=email, password=password)
    else:
        user.set_password(password)
        user.email = email
        user.save(update_fields=["password", "email"])
    membership = Membership.objects.filter(user=user).first()
    if membership and membership.merchant_id != merchant.pk:
        raise ApplicationError(f"{email} already works for another merchant ({membership.merchant.slug}).")
    if membership is None:
        Membership.objects.create(user=user, merchant=merchant, role=Role.OWNER)
    return merchant


def api_key_create(*, merchant: Merchant, name: str = "") -> tuple[ApiKey, str]:
    """Returns the key row and the secret; the secret is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        merchant=merchant, name=name, key=secrets.token_hex(16), secret_hash=_hash_secret(secret)
    )
    return api_key, secret


def api_key_authenticate(*, key: str, secret: str) -> ApiKey | None:
    api_key = ApiKey.objects.select_related("merchant").filter(key=key, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash_secret(secret)):
        return None
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key


@transaction.atomic
def member_add(*, merchant: Merchant, email: str, role: str, password: str) -> Membership:
    """Add a person to the merchant's team with a first password they change after logging in."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", field_errors={"role": ["Choose a role."]})
    user_model = get_user_model()
    if user_model.objects.filter(username=email).exists():
        raise ApplicationError(f"{email} already has a login.", field_errors={"email": ["Already has a login."]})
    user = user_model.objects.create_user(username=email, email=email, password=password)
    return Membership.objects.create(user=user, merchant=merchant, role=role)


def api_key_revoke(*, merchant: Merchant, key_id: int) -> ApiKey:
    api_key = ApiKey.objects.get(merchant=merchant, pk=key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
