"""Orders, tags, shipments, carriers and webhooks under /api/v1/ (paths lower-cased by ApiPathMiddleware)."""

from django.urls import path

from . import views

urlpatterns = [
    path("orders", views.OrderListView.as_view(), name="api-orders"),
    path("orders/<int:order_id>", views.OrderDetailView.as_view(), name="api-order"),
    path("orders/createorder", views.CreateOrderView.as_view(), name="api-order-create"),
    path("orders/createorders", views.CreateOrdersView.as_view(), name="api-orders-create"),
    path("orders/markasshipped", views.MarkShippedView.as_view(), name="api-order-mark-shipped"),
    path("orders/holduntil", views.HoldUntilView.as_view(), name="api-order-hold"),
    path("orders/restorefromhold", views.RestoreFromHoldView.as_view(), name="api-order-restore"),
    path("orders/createlabelfororder", views.CreateLabelForOrderView.as_view(), name="api-order-label"),
    path("orders/addtag", views.AddTagView.as_view(), name="api-order-add-tag"),
    path("orders/removetag", views.RemoveTagView.as_view(), name="api-order-remove-tag"),
    path("orders/listbytag", views.OrderListByTagView.as_view(), name="api-orders-by-tag"),
    path("accounts/listtags", views.ListTagsView.as_view(), name="api-tags"),
    path("accounts/createtag", views.CreateTagView.as_view(), name="api-tag-create"),
    path("shipments", views.ShipmentListView.as_view(), name="api-shipments"),
    path("shipments/voidlabel", views.VoidLabelView.as_view(), name="api-shipment-void"),
    path("carriers", views.CarrierListView.as_view(), name="api-carriers"),
    path("carriers/getcarrier", views.CarrierGetView.as_view(), name="api-carrier"),
    path("carriers/listservices", views.CarrierServicesView.as_view(), name="api-carrier-services"),
    path("carriers/listpackages", views.CarrierPackagesView.as_view(), name="api-carrier-packages"),
    path("webhooks", views.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/subscribe", views.WebhookSubscribeView.as_view(), name="api-webhook-subscribe"),
    path("webhooks/<int:webhook_id>", views.WebhookDetailView.as_view(), name="api-webhook"),
]
