"""ShipStation API v2's inventory endpoint under /api/v2/; any other path is a JSON 404 in v2's shape."""

from django.urls import path, re_path

from . import views
from .v2 import v2_not_found

urlpatterns = [
    path("inventory", views.InventoryView.as_view(), name="api-v2-inventory"),
    re_path(r"", v2_not_found),
]
