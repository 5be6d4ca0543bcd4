"""GET /api/v1/products, GET and PUT /api/v1/products/{id}; GET and POST /api/v2/inventory.

Validate, call a selector or a service, shape: nothing else happens here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from orders.api.base import ApiView, page_of
from orders.api.presenters import GRAMS_PER_UNIT
from orders.api.serializers import SuccessResponse

from ..services.products_api import inventory_update_from_api, product_update_from_api
from . import serializers as s
from .presenters import inventory_level_data, product_data
from .selectors import api_inventory_levels, api_product_get, api_product_list, api_warehouses_exist
from .v2 import ERROR_RESPONSES, RATE_HEADER_PARAMETERS, V2ApiView

PRODUCTS = ["Products"]
INVENTORY = ["Inventory (API v2)"]
NO_PRODUCT_FILTERS = ("productCategoryId", "productTypeId", "tagId")  # we keep none of these: nothing matches
INVENTORY_DESCRIPTION = (
    "ShipStation API v2's inventory endpoint. Authenticate with the header `API-Key: KEY:SECRET` (the API v1 key "
    "and secret). Inventory warehouses and inventory locations are your warehouses: each warehouse is exactly one "
    "location, and both ids are the warehouse's id, as a string."
)


def _valid(serializer_class, data) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _grams(ounces: Decimal | None) -> Decimal | None:
    return None if ounces is None else (ounces * GRAMS_PER_UNIT["ounces"]).quantize(Decimal("0.01"))


class ProductListView(ApiView):
    @extend_schema(tags=PRODUCTS, operation_id="listProducts", parameters=[s.ProductListQuery], responses=s.ProductList)
    def get(self, request):
        q = _valid(s.ProductListQuery, request.query_params.dict())
        qs = api_product_list(
            merchant=self.merchant,
            sku=q.get("sku", ""),
            name=q.get("name", ""),
            created_start=q.get("startDate"),
            created_end=q.get("endDate"),
            sort_by=q.get("sortBy", ""),
            sort_dir=q["sortDir"],
        )
        if any(q.get(name) is not None for name in NO_PRODUCT_FILTERS):
            qs = qs.none()
        rows, total, pages = page_of(qs, page=q["page"], page_size=q["pageSize"])
        return Response(
            {"products": [product_data(p) for p in rows], "total": total, "page": q["page"], "pages": pages}
        )


class ProductDetailView(ApiView):
    @extend_schema(tags=PRODUCTS, operation_id="getProduct", responses=s.Product)
    def get(self, request, product_id: int):
        return Response(product_data(api_product_get(merchant=self.merchant, product_id=product_id)))

    @extend_schema(
        tags=PRODUCTS,
        operation_id="updateProduct",
        request=s.ProductUpdate,
        responses=SuccessResponse,
        description="ShipStation takes the whole product (GET it, change it, PUT it back). We keep sku, name, "
        "defaultCost and weightOz: a field left out keeps its value, null clears it; the others are accepted and "
        "ignored. A new SKU re-matches open orders to the product.",
    )
    def put(self, request, product_id: int):
        product = api_product_get(merchant=self.merchant, product_id=product_id)  # 404 for anyone else's
        data = _valid(s.ProductUpdate, request.data)
        if data.get("productId") not in (None, product.pk):
            raise serializers.ValidationError({"productId": ["Not the product in the URL."]})
        changes: dict[str, Any] = {}
        for field, name in (("sku", "sku"), ("name", "name"), ("defaultCost", "cost")):
            if field in data:
                changes[name] = data[field]
        if "weightOz" in data:
            changes["weight_grams"] = _grams(data["weightOz"])
        product_update_from_api(product=product, **changes)
        return Response({"success": True, "message": "The requested product has been updated"})


def _links(request, *, page: int, pages: int) -> dict[str, dict[str, str]]:
    def href(number: int) -> dict[str, str]:
        params = request.query_params.copy()
        params["page"] = str(number)
        return {"href": request.build_absolute_uri(f"{request.path}?{params.urlencode()}")}

    last = max(pages, 1)
    return {
        "first": href(1),
        "last": href(last),
        "prev": href(min(page - 1, last)) if page > 1 else {},
        "next": href(page + 1) if page < pages else {},
    }


class InventoryView(V2ApiView):
    @extend_schema(
        tags=INVENTORY,
        operation_id="getInventoryLevels",
        summary="List SKU inventory levels",
        description=INVENTORY_DESCRIPTION,
        parameters=[s.InventoryQuery, *RATE_HEADER_PARAMETERS],
        responses={200: s.InventoryList, **ERROR_RESPONSES},
    )
    def get(self, request):
        q = _valid(s.InventoryQuery, request.query_params.dict())
        wanted = {name: q[name] for name in ("inventory_warehouse_id", "inventory_location_id") if name in q}
        known = api_warehouses_exist(merchant=self.merchant, warehouse_ids=wanted.values())
        unknown = {name: ["Not one of your warehouses."] for name, value in wanted.items() if value not in known}
        if unknown:
            raise serializers.ValidationError(unknown)
        skus = [sku for sku in q.get("sku", "").split(",") if sku.strip()]
        qs = api_inventory_levels(merchant=self.merchant, skus=skus, warehouse_ids=wanted.values())
        rows, total, pages = page_of(qs, page=q["page"], page_size=q["limit"])
        return Response(
            {
                "inventory": [inventory_level_data(level) for level in rows],
                "total": total,
                "page": q["page"],
                "pages": pages,
                "links": _links(request, page=q["page"], pages=pages),
            }
        )

    @extend_schema(
        tags=INVENTORY,
        operation_id="updateSkuStockLevels",
        summary="Update SKU stock levels and related properties",
        description=f"{INVENTORY_DESCRIPTION} Every change of on hand is recorded as a stock movement (reason: manual "
        "adjustment; the transaction type, reason, notes and effective_at in its note), and the listings follow. "
        "An unknown SKU, an unknown location or a decrement below 0 is a 400 and changes nothing.",
        request=s.InventoryUpdate,
        parameters=RATE_HEADER_PARAMETERS,
        responses={204: OpenApiResponse(description="Inventory updated."), **ERROR_RESPONSES},
    )
    def post(self, request):
        data = _valid(s.InventoryUpdate, request.data)
        inventory_update_from_api(
            merchant=self.merchant,
            transaction_type=data["transaction_type"],
            sku=data["sku"],
            quantity=data["quantity"],
            location_id=data["inventory_location_id"],
            cost=(data.get("cost") or {}).get("amount"),
            new_cost=(data.get("new_cost") or {}).get("amount"),
            new_location_id=data.get("new_inventory_location_id"),
            reason=data.get("reason") or "",
            notes=data.get("notes") or "",
            effective_at=data.get("effective_at"),
        )
        return Response(status=204)
