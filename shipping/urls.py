from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from orders.api.views import api_not_found
from shipping.accounts.views import team_view


@login_not_required
def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("team/", team_view, name="team"),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("channels.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
    re_path(r"^api/v1/", api_not_found),  # JSON, as ShipStation answers unknown paths
    path("api/v2/", include("catalog.api.urls_v2")),  # ShipStation API v2's inventory; JSON 404 otherwise
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("stores/", include("channels.urls")),
    path("products/", include("catalog.urls")),
    path("", include("orders.urls")),
]
