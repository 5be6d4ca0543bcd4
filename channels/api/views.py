"""GET /stores, /stores/{id}, /stores/marketplaces, /stores/getrefreshstatus; POST refreshstore, (re)activate."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from orders.api.base import ApiView

from ..registry import available_kinds, get_adapter_class
from ..selectors import store_get
from ..services.store_api import store_refresh_status, stores_refresh
from ..services.stores import store_set_active
from . import serializers as s
from .presenters import MARKETPLACE_IDS, marketplace_data, refresh_status_data, store_data

STORES = ["Stores"]


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StoreListView(ApiView):
    @extend_schema(tags=STORES, operation_id="listStores", parameters=[s.StoreListQuery], responses=s.Store(many=True))
    def get(self, request):
        q = _valid(s.StoreListQuery, request.query_params.dict())
        stores = self.merchant.stores.order_by("pk")
        if not q["showInactive"]:
            stores = stores.filter(is_active=True)
        if "marketplaceId" in q:
            kinds = [kind for kind, number in MARKETPLACE_IDS.items() if number == q["marketplaceId"]]
            stores = stores.filter(kind__in=kinds)
        return Response([store_data(store, with_mappings=False) for store in stores])


class StoreDetailView(ApiView):
    @extend_schema(tags=STORES, operation_id="getStore", responses=s.Store)
    def get(self, request, store_id: int):
        store = store_get(merchant=self.merchant, store_id=store_id)
        return Response(store_data(store, with_mappings=True))


class RefreshStoreView(ApiView):
    @extend_schema(tags=STORES, operation_id="refreshStore", request=s.RefreshStoreInput, responses=s.SuccessMessage)
    def post(self, request):
        data = _valid(s.RefreshStoreInput, request.data)
        stores_refresh(merchant=self.merchant, store_id=data.get("storeId"), since=data.get("refreshDate"))
        return Response({"success": True, "message": "A store refresh has been initiated."})


class RefreshStatusView(ApiView):
    @extend_schema(tags=STORES, operation_id="getRefreshStatus", parameters=[s.StoreIdQuery], responses=s.RefreshStatus)
    def get(self, request):
        q = _valid(s.StoreIdQuery, request.query_params.dict())
        store = store_get(merchant=self.merchant, store_id=q["storeId"])
        return Response(refresh_status_data(store_refresh_status(store=store)))


class _SetActiveView(ApiView):
    active: bool

    def post(self, request):
        data = _valid(s.StoreIdInput, request.data)
        store = store_set_active(store=store_get(merchant=self.merchant, store_id=data["storeId"]), active=self.active)
        word = "reactivated" if store.is_active else "deactivated"
        return Response({"success": True, "message": f"The store has been {word}."})


class DeactivateStoreView(_SetActiveView):
    active = False

    @extend_schema(tags=STORES, operation_id="deactivateStore", request=s.StoreIdInput, responses=s.SuccessMessage)
    def post(self, request):
        return super().post(request)


class ReactivateStoreView(_SetActiveView):
    active = True

    @extend_schema(tags=STORES, operation_id="reactivateStore", request=s.StoreIdInput, responses=s.SuccessMessage)
    def post(self, request):
        return super().post(request)


class MarketplaceListView(ApiView):
    @extend_schema(tags=STORES, operation_id="listMarketplaces", responses=s.Marketplace(many=True))
    def get(self, request):
        return Response([marketplace_data(get_adapter_class(kind)) for kind in available_kinds()])
