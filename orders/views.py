from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from shipping.accounts.decorators import merchant_required

from .models import Order
from .selectors import order_get, order_list, order_status_counts
from .statuses import OrderStatus


@merchant_required
def order_list_view(request):
    status = request.GET.get("status") or OrderStatus.AWAITING_SHIPMENT
    if status not in OrderStatus.values and status != "all":
        status = OrderStatus.AWAITING_SHIPMENT
    orders = order_list(
        merchant=request.merchant, status=None if status == "all" else status, search=request.GET.get("q", "").strip()
    )
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    counts = order_status_counts(merchant=request.merchant)
    tabs = [(value, label, counts[value]) for value, label in OrderStatus.choices]
    return render(
        request, "orders/order_list.html", {"page": page, "tabs": tabs, "status": status, "q": request.GET.get("q", "")}
    )


@merchant_required
def order_detail_view(request, order_id: int):
    try:
        order = order_get(merchant=request.merchant, order_id=order_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc
    return render(request, "orders/order_detail.html", {"order": order})
