from django.urls import path

from . import views, views_warehouses

urlpatterns = [
    path("", views.order_list_view, name="home"),
    path("orders/bulk/", views.order_bulk_view, name="order-bulk"),
    path("warehouses/", views_warehouses.warehouse_list_view, name="warehouses"),
    path("warehouses/<int:warehouse_id>/", views_warehouses.warehouse_list_view, name="warehouse-edit"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("batches/<int:batch_id>/", views.print_batch_view, name="print-batch"),
    path("orders/identifier-check/", views.identifier_check_view, name="identifier-check"),
    path("orders/<int:order_id>/", views.order_detail_view, name="order-detail"),
    path("orders/<int:order_id>/<str:kind>.pdf", views.order_document_view, name="order-document"),
    path(
        "orders/<int:order_id>/marketplace-updates/<int:message_id>/<str:action>/",
        views.outbox_message_action_view,
        name="outbox-message-action",
    ),
]
