from django.urls import path

from . import views, views_settings

urlpatterns = [
    path("", views.store_list_view, name="store-list"),
    path("connect/", views_settings.store_connect_choose_view, name="store-connect-choose"),
    path("connect/<str:kind>/", views_settings.store_connect_view, name="store-connect"),
    path("<int:store_id>/settings/", views_settings.store_settings_view, name="store-settings"),
    path("<int:store_id>/", views.store_detail_view, name="store-detail"),
    path("<int:store_id>/sync/", views.store_sync_view, name="store-sync"),
    path("issues/<int:issue_id>/retry/", views.sync_issue_retry_view, name="sync-issue-retry"),
]
