from django.urls import path

from . import views

urlpatterns = [
    path("stores", views.StoreListView.as_view(), name="api-stores"),
    path("stores/<int:store_id>", views.StoreDetailView.as_view(), name="api-store"),
    path("stores/refreshstore", views.RefreshStoreView.as_view(), name="api-store-refresh"),
    path("stores/getrefreshstatus", views.RefreshStatusView.as_view(), name="api-store-refresh-status"),
    path("stores/deactivate", views.DeactivateStoreView.as_view(), name="api-store-deactivate"),
    path("stores/reactivate", views.ReactivateStoreView.as_view(), name="api-store-reactivate"),
    path("stores/marketplaces", views.MarketplaceListView.as_view(), name="api-marketplaces"),
]
