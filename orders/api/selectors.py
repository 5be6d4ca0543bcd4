"""Reads for the API, scoped to the key's merchant, each a constant number of queries whatever the page."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, TextField, Window
from django.db.models.functions import Cast, Lower, RowNumber

from shipping.accounts.models import Merchant

from ..models import Order, OrderLine, OutboxMessage, Shipment, ShipmentLine, Tag, Webhook, WebhookDelivery
from ..statuses import OrderStatus

ORDER_SORT = {"OrderDate": "order_date", "ModifyDate": "updated_at", "CreateDate": "created_at"}
SHIPMENT_SORT = {"ShipDate": "ship_date", "CreateDate": "created_at"}
# ShipStation statuses we never have: asking for them is valid and finds nothing.
EMPTY_STATUSES = ("pending_fulfillment", "rejected_fulfillment")


def _batch_ids(merchant: Merchant, batch_id: str, event: str) -> list[int]:
    delivery = WebhookDelivery.objects.filter(
        batch_id=batch_id, webhook__merchant=merchant, webhook__event=event
    ).first()
    return list(delivery.object_ids) if delivery else []


def _orders_with_children(qs: QuerySet[Order]) -> QuerySet[Order]:
    return qs.prefetch_related(
        "lines",
        "tags",
        Prefetch(
            "shipments",
            queryset=Shipment.objects.filter(voided_at__isnull=True).order_by("-created_at", "-id"),
        ),
    )


def _date_range(qs: QuerySet, field: str, start: datetime | None, end: datetime | None) -> QuerySet:
    if start is not None:
        qs = qs.filter(**{f"{field}__gte": start})
    if end is not None:
        qs = qs.filter(**{f"{field}__lte": end})
    return qs


def api_order_list(
    *,
    merchant: Merchant,
    customer_name: str = "",
    item_keyword: str = "",
    order_number: str = "",
    order_status: str = "",
    store_id: int | None = None,
    dates: dict[str, tuple[datetime | None, datetime | None]] | None = None,
    sort_by: str = "",
    sort_dir: str = "ASC",
    import_batch: str = "",
    tag_id: int | None = None,
) -> QuerySet[Order]:
    """GET /orders and /orders/listbytag. ``dates`` maps order_date / payment_date / created_at / updated_at
    to a (start, end); ``tag_id`` keeps the orders with that tag (check it is the merchant's: api_tag_exists).
    """
    qs = Order.objects.filter(merchant=merchant)
    if tag_id is not None:
        qs = qs.filter(tags__id=tag_id)  # one row per order: an order has a tag at most once
    if import_batch:  # a webhook's resource_url
        qs = qs.filter(pk__in=_batch_ids(merchant, import_batch, Webhook.Event.ORDER_NOTIFY))
    if order_status in EMPTY_STATUSES:
        return qs.none()
    if order_status:
        qs = qs.filter(status=OrderStatus(order_status))
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    if order_number:
        qs = qs.filter(order_number__istartswith=order_number)
    if customer_name:
        qs = qs.filter(
            Q(customer_name__icontains=customer_name)
            | Q(ship_to_name__icontains=customer_name)
            | Q(bill_to_name__icontains=customer_name)
        )
    if item_keyword:
        lines = OrderLine.objects.annotate(options_text=Cast("options", TextField())).filter(
            Q(sku__icontains=item_keyword) | Q(name__icontains=item_keyword) | Q(options_text__icontains=item_keyword),
            order=OuterRef("pk"),
            removed_at__isnull=True,
        )
        qs = qs.filter(Exists(lines))
    for field, (start, end) in (dates or {}).items():
        qs = _date_range(qs, field, start, end)
    column = ORDER_SORT.get(sort_by, "id")
    desc = sort_dir.upper() == "DESC"
    qs = qs.order_by(f"-{column}" if desc else column, "-id" if desc else "id")
    return _orders_with_children(qs)


def api_order_get(*, merchant: Merchant, order_id: int) -> Order:
    """One of the merchant's orders (Order.DoesNotExist, so a 404, for anyone else's)."""
    return _orders_with_children(Order.objects.filter(merchant=merchant)).get(pk=order_id)


def api_tag_list(*, merchant: Merchant) -> QuerySet[Tag]:
    """GET /accounts/listtags: the merchant's tags by name."""
    return Tag.objects.filter(merchant=merchant).order_by(Lower("name"), "id")


def api_tag_exists(*, merchant: Merchant, tag_id: int) -> bool:
    return Tag.objects.filter(merchant=merchant, pk=tag_id).exists()


def api_order_find(*, merchant: Merchant, order_key: str, store_id: int | None = None) -> list[Order]:
    """Orders of the merchant with this orderKey (our external id), optionally in one store."""
    qs = Order.objects.filter(merchant=merchant, external_id=order_key).select_related("store")
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    return list(qs[:2])


def _shipments_with_children(qs: QuerySet[Shipment], *, include_items: bool) -> QuerySet[Shipment]:
    qs = qs.select_related("order").prefetch_related(
        Prefetch("outbox_messages", queryset=OutboxMessage.objects.filter(kind="notify_shipment").order_by("id"))
    )
    if include_items:
        qs = qs.prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")))
    return qs


def api_shipment_list(
    *,
    merchant: Merchant,
    recipient_name: str = "",
    recipient_country_code: str = "",
    order_number: str = "",
    order_id: int | None = None,
    carrier_code: str = "",
    service_code: str = "",
    tracking_number: str = "",
    store_id: int | None = None,
    dates: dict[str, tuple[datetime | None, datetime | None]] | None = None,
    include_items: bool = False,
    sort_by: str = "",
    sort_dir: str = "ASC",
    batch_id: str = "",
) -> QuerySet[Shipment]:
    """GET /shipments. ``dates`` maps created_at / ship_date / voided_at to a (start, end)."""
    qs = Shipment.objects.filter(order__merchant=merchant)
    if batch_id:  # a webhook's resource_url
        qs = qs.filter(pk__in=_batch_ids(merchant, batch_id, Webhook.Event.SHIP_NOTIFY))
    if recipient_name:
        qs = qs.filter(order__ship_to_name__icontains=recipient_name)
    if recipient_country_code:
        qs = qs.filter(order__ship_to_country__iexact=recipient_country_code)
    if order_number:
        qs = qs.filter(order__order_number__iexact=order_number)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    if carrier_code:
        qs = qs.filter(carrier_code__iexact=carrier_code)
    if service_code:
        qs = qs.filter(service_code__iexact=service_code)
    if tracking_number:
        qs = qs.filter(tracking_number__iexact=tracking_number)
    if store_id is not None:
        qs = qs.filter(order__store_id=store_id)
    for field, (start, end) in (dates or {}).items():
        qs = _date_range(qs, field, start, end)
    column = SHIPMENT_SORT.get(sort_by, "id")
    desc = sort_dir.upper() == "DESC"
    qs = qs.order_by(f"-{column}" if desc else column, "-id" if desc else "id")
    return _shipments_with_children(qs, include_items=include_items)


def api_shipment_get(*, merchant: Merchant, shipment_id: int) -> Shipment:
    return _shipments_with_children(Shipment.objects.filter(order__merchant=merchant), include_items=True).get(
        pk=shipment_id
    )


def api_webhook_list(*, merchant: Merchant, recent_deliveries: int = 10) -> list[Webhook]:
    """The merchant's webhooks, each with its latest deliveries (the delivery log): two queries."""
    webhooks = list(Webhook.objects.filter(merchant=merchant).order_by("id"))
    newest_first = [F("created_at").desc(), F("id").desc()]
    deliveries = (
        WebhookDelivery.objects.filter(webhook__in=webhooks)
        .annotate(n=Window(RowNumber(), partition_by=[F("webhook_id")], order_by=newest_first))
        .filter(n__lte=recent_deliveries)  # the log grows: the newest few per webhook
        .order_by("webhook_id", "n")
    )
    by_hook: dict[int, list[WebhookDelivery]] = {}
    for delivery in deliveries:
        by_hook.setdefault(delivery.webhook_id, []).append(delivery)
    for webhook in webhooks:
        webhook.recent_deliveries = by_hook.get(webhook.pk, [])
    return webhooks


def api_webhook_get(*, merchant: Merchant, webhook_id: int) -> Webhook:
    return Webhook.objects.get(merchant=merchant, pk=webhook_id)
