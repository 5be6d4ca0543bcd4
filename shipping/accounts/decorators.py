from functools import wraps

from django.core.exceptions import PermissionDenied


def merchant_required(view):
    """The signed-in user must work for a merchant; every query in the view is scoped to it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.merchant is None:
            raise PermissionDenied("Your login is not attached to a merchant.")
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles: str):
    """Only members with one of these roles (e.g. owners for store settings, credentials, team, keys)."""

    def decorate(view):
        @wraps(view)
        @merchant_required
        def wrapper(request, *args, **kwargs):
            if request.membership.role not in roles:
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
