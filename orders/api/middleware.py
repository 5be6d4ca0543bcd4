"""ShipStation's paths are case-insensitive (clients send /Orders/CreateOrder) and take no trailing slash."""

API_PREFIX = "/api/v1/"


class ApiPathMiddleware:
    """Lower-cases /api/v1/ paths before URL resolution (ids in them are numbers, so nothing is lost)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path[: len(API_PREFIX)].lower() == API_PREFIX:
            path = path.lower()
            if len(path) > len(API_PREFIX) and path.endswith("/"):
                path = path.rstrip("/")
            request.path_info = path
        return self.get_response(request)
