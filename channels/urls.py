from django.urls import path

from . import views

urlpatterns = [
    path("", views.store_list_view, name="store-list"),
    path("<int:store_id>/", views.store_detail_view, name="store-detail"),
    path("<int:store_id>/sync/", views.store_sync_view, name="store-sync"),
    path("issues/<int:issue_id>/retry/", views.sync_issue_retry_view, name="sync-issue-retry"),
]
