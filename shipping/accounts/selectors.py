from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import Membership, Merchant


def merchant_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Merchant | None:
    """The one merchant a signed-in user works for, or None (anonymous, or no membership)."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.select_related("merchant").filter(user=user).first()
    return membership.merchant if membership else None


def membership_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("merchant").filter(user=user).first()
