from .selectors import membership_for_user


class MerchantMiddleware:
    """Puts the signed-in user's membership and merchant on the request (one query, none if anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = membership_for_user(user=request.user)
        request.membership = membership
        request.merchant = membership.merchant if membership else None
        return self.get_response(request)
