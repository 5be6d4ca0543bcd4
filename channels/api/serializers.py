"""Requests and response shapes of the store endpoints (responses: schema only, presenters build them)."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.fields import ApiDateTimeField
from orders.api.serializers import MAX_ID, QuerySerializer


class StoreListQuery(QuerySerializer):
    showInactive = serializers.BooleanField(required=False, default=False)
    marketplaceId = serializers.IntegerField(required=False, min_value=0, max_value=MAX_ID)


class StoreIdQuery(QuerySerializer):
    storeId = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class StoreIdInput(serializers.Serializer):
    storeId = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class RefreshStoreInput(serializers.Serializer):
    storeId = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    refreshDate = ApiDateTimeField(required=False, allow_null=True)


def _s() -> serializers.CharField:
    return serializers.CharField(allow_null=True)


class StatusMapping(serializers.Serializer):
    orderStatus = serializers.CharField()
    statusKey = serializers.CharField()


class Store(serializers.Serializer):
    storeId = serializers.IntegerField()
    storeName = serializers.CharField()
    marketplaceId = serializers.IntegerField(allow_null=True)
    marketplaceName = serializers.CharField()
    accountName = _s()
    email = _s()
    integrationUrl = _s()
    active = serializers.BooleanField()
    companyName = _s()
    phone = _s()
    publicEmail = _s()
    website = _s()
    refreshDate = _s()
    lastRefreshAttempt = _s()
    createDate = _s()
    modifyDate = _s()
    autoRefresh = serializers.BooleanField()
    statusMappings = StatusMapping(many=True, allow_null=True)


class Marketplace(serializers.Serializer):
    name = serializers.CharField()
    marketplaceId = serializers.IntegerField(allow_null=True)
    canRefresh = serializers.BooleanField()
    supportsCustomMappings = serializers.BooleanField()
    supportsCustomStatuses = serializers.BooleanField()
    canConfirmShipments = serializers.BooleanField()


class RefreshStatus(serializers.Serializer):
    storeId = serializers.IntegerField()
    refreshStatusId = serializers.IntegerField()
    refreshStatus = serializers.CharField()
    lastRefreshAttempt = _s()
    refreshDate = _s()


class SuccessMessage(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
