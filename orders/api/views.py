"""Orders, shipments and carriers of the ShipStation-compatible API: validate, call a service or selector, shape."""

from __future__ import annotations

import base64
from datetime import datetime

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from shipping.core.errors import ApplicationError

from .. import carriers
from ..models import Shipment
from ..services.holds import order_hold, order_release_hold
from ..services.order_api import order_delete_from_api, order_label_create, order_save_from_api
from ..services.shipments import shipment_create, shipment_void
from ..services.tags import DEFAULT_COLOR, order_tag_add, order_tag_remove, tag_create
from ..services.webhooks import webhook_subscribe, webhook_unsubscribe
from ..statuses import StatusSource
from . import convert
from . import serializers as s
from .base import ApiView, page_of
from .dates import api_zone, day_start
from .errors import error_body, flatten_errors
from .presenters import order_data, shipment_data, tag_data, webhook_data
from .selectors import (
    api_order_get,
    api_order_list,
    api_shipment_get,
    api_shipment_list,
    api_tag_exists,
    api_tag_list,
    api_webhook_get,
    api_webhook_list,
)

ORDERS = ["Orders"]
SHIPMENTS = ["Shipments"]
CARRIERS = ["Carriers"]
WEBHOOKS = ["Webhooks"]
ACCOUNTS = ["Accounts"]
MAX_BULK = 100


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _query(request, serializer_class) -> dict:
    return _valid(serializer_class, request.query_params.dict())


def _range(q: dict, prefix: str) -> tuple[datetime | None, datetime | None]:
    return q.get(f"{prefix}Start"), q.get(f"{prefix}End")


def _tag_id_or_400(merchant, tag_id: int | None) -> int | None:
    """A tagId filter names one of the merchant's tags: any other is a 400, as addtag answers it."""
    if tag_id is not None and not api_tag_exists(merchant=merchant, tag_id=tag_id):
        raise serializers.ValidationError({"tagId": [f"No tag {tag_id} here."]})
    return tag_id


def _orders_page(qs, q: dict) -> Response:
    orders, total, pages = page_of(qs, page=q["page"], page_size=q["pageSize"])
    return Response({"orders": [order_data(o) for o in orders], "total": total, "page": q["page"], "pages": pages})


class OrderListView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="listOrders", parameters=[s.OrderListQuery], responses=s.OrderList)
    def get(self, request):
        q = _query(request, s.OrderListQuery)
        dates = {
            "created_at": _range(q, "createDate"),
            "updated_at": _range(q, "modifyDate"),
            "order_date": _range(q, "orderDate"),
            "payment_date": _range(q, "paymentDate"),
        }
        qs = api_order_list(
            merchant=self.merchant,
            customer_name=q.get("customerName", ""),
            item_keyword=q.get("itemKeyword", ""),
            order_number=q.get("orderNumber", ""),
            order_status=q.get("orderStatus", ""),
            store_id=q.get("storeId"),
            dates={k: v for k, v in dates.items() if v != (None, None)},
            sort_by=q.get("sortBy", ""),
            sort_dir=q["sortDir"],
            import_batch=q.get("importBatch", ""),
            tag_id=_tag_id_or_400(self.merchant, q.get("tagId")),
        )
        return _orders_page(qs, q)


class OrderListByTagView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="listOrdersByTag", parameters=[s.ListByTagQuery], responses=s.OrderList)
    def get(self, request):
        q = _query(request, s.ListByTagQuery)
        qs = api_order_list(
            merchant=self.merchant,
            order_status=q.get("orderStatus", ""),
            tag_id=_tag_id_or_400(self.merchant, q["tagId"]),
        )
        return _orders_page(qs, q)


class AddTagView(ApiView):
    @extend_schema(
        tags=ORDERS,
        operation_id="addTagToOrder",
        request=s.OrderTagInput,
        responses=s.SuccessResponse,
        description="Idempotent: adding a tag the order has already succeeds and changes nothing.",
    )
    def post(self, request):
        data = _valid(s.OrderTagInput, request.data)
        order = api_order_get(merchant=self.merchant, order_id=data["orderId"])  # 404 when not this merchant's
        order_tag_add(merchant=self.merchant, order_id=order.pk, tag_id=data["tagId"])  # idempotent
        return Response({"success": True, "message": "Tag added successfully."})


class RemoveTagView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="removeTagFromOrder", request=s.OrderTagInput, responses=s.SuccessResponse)
    def post(self, request):
        data = _valid(s.OrderTagInput, request.data)
        order = api_order_get(merchant=self.merchant, order_id=data["orderId"])
        order_tag_remove(merchant=self.merchant, order_id=order.pk, tag_id=data["tagId"])  # idempotent
        return Response({"success": True, "message": "Tag removed successfully."})


class ListTagsView(ApiView):
    @extend_schema(tags=ACCOUNTS, operation_id="listTags", responses=s.Tag(many=True))
    def get(self, request):
        return Response([tag_data(tag) for tag in api_tag_list(merchant=self.merchant)])


class CreateTagView(ApiView):
    @extend_schema(
        tags=ACCOUNTS,
        operation_id="createTag",
        request=s.CreateTagInput,
        responses=s.Tag,
        description="Ours: ShipStation's API v1 lists tags but has no call to create one. "
        "The name is unique among your tags whatever its case (a duplicate is a 400).",
    )
    def post(self, request):
        data = _valid(s.CreateTagInput, request.data)
        tag = tag_create(merchant=self.merchant, name=data["name"], color=data.get("color") or DEFAULT_COLOR)
        return Response(tag_data(tag))


class OrderDetailView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="getOrder", responses=s.Order)
    def get(self, request, order_id: int):
        return Response(order_data(api_order_get(merchant=self.merchant, order_id=order_id)))

    @extend_schema(tags=ORDERS, operation_id="deleteOrder", responses={200: s.SuccessResponse})
    def delete(self, request, order_id: int):
        order_delete_from_api(order=api_order_get(merchant=self.merchant, order_id=order_id))
        return Response({"success": True, "message": "The requested order has been deleted."})


class CreateOrderView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="createOrder", request=s.OrderInput, responses=s.Order)
    def post(self, request):
        data = _valid(s.OrderInput, request.data)
        order, _ = order_save_from_api(merchant=self.merchant, **convert.save_kwargs(data))
        return Response(order_data(api_order_get(merchant=self.merchant, order_id=order.pk)))


class CreateOrdersView(ApiView):
    @extend_schema(
        tags=ORDERS, operation_id="createOrders", request=s.OrderInput(many=True), responses=s.CreateOrdersResponse
    )
    def post(self, request):
        if not isinstance(request.data, list):
            raise serializers.ValidationError({"request": ["Send a JSON array of orders."]})
        if len(request.data) > MAX_BULK:
            raise serializers.ValidationError({"request": [f"At most {MAX_BULK} orders per request."]})
        results = [self._one(body) for body in request.data]
        return Response({"hasErrors": any(not r["success"] for r in results), "results": results})

    def _one(self, body) -> dict:
        number = body.get("orderNumber") if isinstance(body, dict) else None
        key = body.get("orderKey") if isinstance(body, dict) else None
        serializer = s.OrderInput(data=body)
        if not serializer.is_valid():
            problems = flatten_errors(serializer.errors)
            message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in problems.items())
            return _result(None, number, key, message)
        try:
            with transaction.atomic():  # one order fails alone
                order, _ = order_save_from_api(merchant=self.merchant, **convert.save_kwargs(serializer.validated_data))
        except ApplicationError as exc:
            return _result(None, number, key, exc.message)
        except ObjectDoesNotExist:  # an orderId that is not one of this merchant's orders
            return _result(None, number, key, "The order was not found.")
        return _result(order, order.order_number, order.external_id, None)


def _result(order, number, key, error: str | None) -> dict:
    return {
        "orderId": order.pk if order else None,
        "orderNumber": number if isinstance(number, str) else None,
        "orderKey": key if isinstance(key, str) else None,
        "success": error is None,
        "errorMessage": error,
    }


class MarkShippedView(ApiView):
    @extend_schema(
        tags=ORDERS, operation_id="markAsShipped", request=s.MarkShippedInput, responses=s.MarkShippedResponse
    )
    def post(self, request):
        data = _valid(s.MarkShippedInput, request.data)
        order = api_order_get(merchant=self.merchant, order_id=data["orderId"])
        # The IMEI / serial gate of shipment_create applies: a Back Market order without them is refused.
        shipment_create(
            order=order,
            carrier_code=convert.carrier_code(data["carrierCode"]),
            tracking_number=data.get("trackingNumber") or "",
            ship_date=data.get("shipDate"),
            notify_channel=data["notifySalesChannel"],
            notify_customer=data["notifyCustomer"],
            source=StatusSource.API,
        )
        return Response({"orderId": order.pk, "orderNumber": order.order_number})


class HoldUntilView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="holdOrderUntil", request=s.HoldUntilInput, responses=s.SuccessResponse)
    def post(self, request):
        data = _valid(s.HoldUntilInput, request.data)
        order = api_order_get(merchant=self.merchant, order_id=data["orderId"])
        order_hold(order=order, until=day_start(data["holdUntilDate"]), source=StatusSource.API)
        return Response({"success": True, "message": "Order held successfully."})


class RestoreFromHoldView(ApiView):
    @extend_schema(
        tags=ORDERS, operation_id="restoreOrderFromHold", request=s.OrderIdInput, responses=s.SuccessResponse
    )
    def post(self, request):
        data = _valid(s.OrderIdInput, request.data)
        order = api_order_get(merchant=self.merchant, order_id=data["orderId"])
        order_release_hold(order=order, source=StatusSource.API)
        return Response({"success": True, "message": "Order restored successfully."})


class CreateLabelForOrderView(ApiView):
    @extend_schema(tags=ORDERS, operation_id="createLabelForOrder", request=s.CreateLabelInput, responses=s.Shipment)
    def post(self, request):
        data = _valid(s.CreateLabelInput, request.data)
        order = api_order_get(merchant=self.merchant, order_id=data["orderId"])
        dims, units = convert.dimensions(data.get("dimensions"))
        shipment, pdf = order_label_create(
            order=order,
            carrier_code=convert.carrier_code(data["carrierCode"]),
            service_code=data.get("serviceCode") or "",
            package_code=data.get("packageCode") or "",
            ship_date=data.get("shipDate"),
            weight_grams=convert.grams(data.get("weight")),
            dimensions=dims,
            dimension_units=units,
            test_label=data["testLabel"],
        )
        label = base64.b64encode(pdf).decode()
        if shipment is None:  # a test label: nothing was shipped
            return Response(_test_label(order, data, label))
        shipment = api_shipment_get(merchant=self.merchant, shipment_id=shipment.pk)
        body = shipment_data(shipment, label_data=label)
        body["confirmation"] = data.get("confirmation")
        return Response(body)


def _test_label(order, data: dict, label: str) -> dict:
    draft = Shipment(
        order=order,
        carrier_code=convert.carrier_code(data["carrierCode"]),
        service_code=data.get("serviceCode") or "",
        package_code=data.get("packageCode") or "",
        ship_date=data.get("shipDate") or datetime.now(api_zone()).date(),
        weight_grams=convert.grams(data.get("weight")),
    )
    body = shipment_data(draft, label_data=label)
    body.update({"shipmentId": None, "createDate": None, "marketplaceNotified": False, "notifyErrorMessage": None})
    return body


class ShipmentListView(ApiView):
    @extend_schema(
        tags=SHIPMENTS, operation_id="listShipments", parameters=[s.ShipmentListQuery], responses=s.ShipmentList
    )
    def get(self, request):
        q = _query(request, s.ShipmentListQuery)
        ship_start, ship_end = _range(q, "shipDate")
        dates = {
            "created_at": _range(q, "createDate"),
            "voided_at": _range(q, "voidDate"),
            # ship_date is a calendar day: compare days in the API's time zone.
            "ship_date": tuple(d.astimezone(api_zone()).date() if d else None for d in (ship_start, ship_end)),
        }
        include = q["includeShipmentItems"]
        qs = api_shipment_list(
            merchant=self.merchant,
            recipient_name=q.get("recipientName", ""),
            recipient_country_code=q.get("recipientCountryCode", ""),
            order_number=q.get("orderNumber", ""),
            order_id=q.get("orderId"),
            carrier_code=convert.carrier_code(q.get("carrierCode", "")),
            service_code=q.get("serviceCode", ""),
            tracking_number=q.get("trackingNumber", ""),
            store_id=q.get("storeId"),
            dates={k: v for k, v in dates.items() if v != (None, None)},
            include_items=include,
            sort_by=q.get("sortBy", ""),
            sort_dir=q["sortDir"],
            batch_id=q.get("batchId", ""),
        )
        rows, total, pages = page_of(qs, page=q["page"], page_size=q["pageSize"])
        return Response(
            {
                "shipments": [shipment_data(row, include_items=include) for row in rows],
                "total": total,
                "page": q["page"],
                "pages": pages,
            }
        )


class VoidLabelView(ApiView):
    @extend_schema(tags=SHIPMENTS, operation_id="voidLabel", request=s.VoidLabelInput, responses=s.VoidLabelResponse)
    def post(self, request):
        data = _valid(s.VoidLabelInput, request.data)
        shipment = api_shipment_get(merchant=self.merchant, shipment_id=data["shipmentId"])
        try:
            shipment_void(shipment=shipment)
        except ApplicationError as exc:
            return Response({"approved": False, "message": exc.message})
        return Response({"approved": True, "message": "Label voided successfully."})


def _carrier_data(carrier: carriers.Carrier) -> dict:
    return {
        "name": carrier.name,
        "code": carrier.code,
        "accountNumber": None,
        "requiresFundedAccount": False,
        "balance": 0,
        "nickname": None,
        "shippingProviderId": None,
        "primary": True,
    }


def _carrier_or_400(code: str) -> carriers.Carrier:
    found = carriers.carrier(convert.carrier_code(code))
    if found is None:
        raise serializers.ValidationError({"carrierCode": [f"Unknown carrier {code!r}."]})
    return found


class CarrierListView(ApiView):
    @extend_schema(tags=CARRIERS, operation_id="listCarriers", responses=s.Carrier(many=True))
    def get(self, request):
        return Response([_carrier_data(c) for c in carriers.CARRIERS])


class CarrierGetView(ApiView):
    @extend_schema(tags=CARRIERS, operation_id="getCarrier", parameters=[s.CarrierQuery], responses=s.Carrier)
    def get(self, request):
        return Response(_carrier_data(_carrier_or_400(_query(request, s.CarrierQuery)["carrierCode"])))


class CarrierServicesView(ApiView):
    @extend_schema(
        tags=CARRIERS,
        operation_id="listCarrierServices",
        parameters=[s.CarrierQuery],
        responses=s.CarrierService(many=True),
    )
    def get(self, request):
        found = _carrier_or_400(_query(request, s.CarrierQuery)["carrierCode"])
        return Response(
            [
                {
                    "carrierCode": found.code,
                    "code": svc.code,
                    "name": svc.name,
                    "domestic": svc.domestic,
                    "international": svc.international,
                }
                for svc in found.services
            ]
        )


class CarrierPackagesView(ApiView):
    @extend_schema(
        tags=CARRIERS,
        operation_id="listCarrierPackages",
        parameters=[s.CarrierQuery],
        responses=s.CarrierPackage(many=True),
    )
    def get(self, request):
        found = _carrier_or_400(_query(request, s.CarrierQuery)["carrierCode"])
        # No package catalogue yet: ShipStation's generic "package" for every carrier.
        return Response(
            [{"carrierCode": found.code, "code": "package", "name": "Package", "domestic": True, "international": True}]
        )


class WebhookListView(ApiView):
    @extend_schema(tags=WEBHOOKS, operation_id="listWebhooks", responses=s.WebhookList)
    def get(self, request):
        return Response({"webhooks": [webhook_data(w) for w in api_webhook_list(merchant=self.merchant)]})


class WebhookSubscribeView(ApiView):
    @extend_schema(
        tags=WEBHOOKS, operation_id="subscribeWebhook", request=s.SubscribeInput, responses=s.SubscribeResponse
    )
    def post(self, request):
        data = _valid(s.SubscribeInput, request.data)
        try:
            webhook, secret = webhook_subscribe(
                merchant=self.merchant,
                target_url=data["target_url"],
                event=data["event"],
                store_id=data.get("store_id"),
                friendly_name=data.get("friendly_name") or "",
                api_base_url=request.build_absolute_uri("/api/v1"),
            )
        except ApplicationError as exc:  # this body is snake_case: its ModelState keys stay so
            return Response(error_body(exc.message, exc.field_errors), status=400)
        return Response({"id": webhook.pk, "signing_secret": secret}, status=201)


class WebhookDetailView(ApiView):
    @extend_schema(tags=WEBHOOKS, operation_id="unsubscribeWebhook", responses={200: s.SuccessResponse})
    def delete(self, request, webhook_id: int):
        webhook_unsubscribe(webhook=api_webhook_get(merchant=self.merchant, webhook_id=webhook_id))
        return Response({"success": True, "message": "The webhook has been removed."})


@csrf_exempt
@login_not_required
def api_not_found(request, *args, **kwargs):
    """Any other path under /api/v1/: a JSON 404 a ShipStation client can read."""
    return JsonResponse(
        {"Message": f"No HTTP resource was found that matches the request URI {request.path!r}."}, status=404
    )
