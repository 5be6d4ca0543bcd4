from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shipping.accounts.decorators import merchant_required

from .models import Order, OutboxMessage
from .selectors import order_get, order_list, order_status_counts
from .services.identifiers import order_line_identifiers
from .services.outbox import outbox_mark_done_manually, outbox_retry
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
    identifiers = {item.line.pk: item for item in order_line_identifiers(order=order)}
    rows = [(line, identifiers.get(line.pk)) for line in order.lines.all()]
    return render(request, "orders/order_detail.html", {"order": order, "rows": rows})


@require_POST
@merchant_required
def outbox_message_action_view(request, order_id: int, message_id: int, action: str):
    """Retry a failed marketplace update, or record that it was done by hand."""
    try:
        order = order_get(merchant=request.merchant, order_id=order_id)
        message = order.outbox_messages.get(pk=message_id, status=OutboxMessage.Status.FAILED)
    except (Order.DoesNotExist, OutboxMessage.DoesNotExist) as exc:
        raise Http404("No such failed update.") from exc
    if action == "retry":
        outbox_retry(message=message)
        messages.success(request, f"{message.get_kind_display()} will be sent again.")
    elif action == "done":
        outbox_mark_done_manually(message=message)
        messages.success(request, f"{message.get_kind_display()} marked as done.")
    else:
        raise Http404("Unknown action.")
    return redirect("order-detail", order_id=order.pk)
