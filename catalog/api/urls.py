"""Products under /api/v1/ (paths lower-cased by ApiPathMiddleware)."""

from django.urls import path

from . import views

urlpatterns = [
    path("products", views.ProductListView.as_view(), name="api-products"),
    path("products/<int:product_id>", views.ProductDetailView.as_view(), name="api-product"),
]
