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
