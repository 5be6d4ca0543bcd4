from django.urls import path

from . import views

urlpatterns = [
    path("", views.order_list_view, name="home"),
    path("orders/bulk/", views.order_bulk_view, name="order-bulk"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("batches/<int:batch_id>/", views.print_batch_view, name="print-batch"),
    path("orders/<int:order_id>/", views.order_detail_view, name="order-detail"),
    path("orders/<int:order_id>/<str:kind>.pdf", views.order_document_view, name="order-document"),
    path(
        "orders/<int:order_id>/marketplace-updates/<int:message_id>/<str:action>/",
        views.outbox_message_action_view,
        name="outbox-message-action",
    ),
]
