from django.urls import path

from . import views, views_listings

urlpatterns = [
    path("", views.product_list_view, name="product-list"),
    path("new/", views.product_create_view, name="product-create"),
    path("import/", views.product_import_view, name="product-import"),
    path("export.csv", views.product_export_view, name="product-export"),
    path("listings-log/", views_listings.listings_log_view, name="listings-log"),
    path("listings-log/run/", views_listings.listing_run_view, name="listing-run"),
    path("<int:product_id>/", views.product_detail_view, name="product-detail"),
]
