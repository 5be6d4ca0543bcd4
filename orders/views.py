from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shipping.accounts.decorators import merchant_required
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError
from shipping.core.views import get_or_404

from .forms import BulkActionForm, InternalNotesForm, LineIdentifierForm, OrderFilterForm, ShipForm
from .models import Order, OrderLine, OutboxMessage, Shipment
from .selectors import (
    ORDER_SORT_DEFAULT,
    dashboard_figures,
    order_get,
    order_list_page,
    order_status_counts,
    print_batch_get,
    store_choices,
    store_list_for_dashboard,
    tag_list,
)
from .services.documents import active_shipment, label_render, packing_slip_render, print_batch_create
from .services.holds import order_hold, order_release_hold, orders_hold_many
from .services.identifiers import identifier_feedback, order_line_identifiers
from .services.notifications import shipment_email_resend
from .services.order_edit import order_line_set_identifier, order_update_internal_notes
from .services.outbox import outbox_mark_done_manually, outbox_retry
from .services.shipments import orders_ship_many, shipment_create, shipped_quantities
from .services.tags import DEFAULT_COLOR, order_tag_add, order_tag_remove, tag_create
from .statuses import OrderStatus


@merchant_required
def order_list_view(request):
    status = request.GET.get("status") or OrderStatus.AWAITING_SHIPMENT
    if status not in OrderStatus.values and status != "all":
        status = OrderStatus.AWAITING_SHIPMENT
    filters = OrderFilterForm(request.GET or None, stores=store_choices(merchant=request.merchant))
    criteria = filters.cleaned_data if filters.is_valid() else {}
    page = order_list_page(
        merchant=request.merchant,
        status=None if status == "all" else status,
        search=(criteria.get("q") or "").strip(),
        store_id=criteria.get("store"),
        carrier_code=criteria.get("carrier") or "",
        date_from=criteria.get("date_from"),
        date_to=criteria.get("date_to"),
        sort=request.GET.get("sort"),
        cursor=request.GET.get("cursor", ""),
    )
    counts = order_status_counts(merchant=request.merchant)
    tabs = [(value, label, counts[value]) for value, label in OrderStatus.choices]
    # Tabs, headers and pager keep the filters; headers set their own sort; only the pager has a cursor.
    filter_query = request.GET.copy()
    for name in ("status", "sort", "cursor", "page"):
        filter_query.pop(name, None)
    query = filter_query.copy()
    if page.sort != ORDER_SORT_DEFAULT:
        query["sort"] = page.sort
    columns = [
        ("order_number", "Order"),
        ("store", "Store"),
        ("order_date", "Date"),
        ("customer", "Customer"),
        (None, "Ship to"),
        (None, "Items"),
        ("total", "Total"),
        ("status" if status == "all" else None, "Status"),  # one status per tab: nothing to sort there
    ]
    headers = [
        {"label": label, "sort": key and page.sort_toggle(key), "aria_sort": key and page.aria_sort(key)}
        for key, label in columns
    ]
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "tabs": tabs,
            "status": status,
            "filters": filters,
            "headers": headers,
            "query": query.urlencode(),
            "filter_query": filter_query.urlencode(),
            "bulk_carriers": BulkActionForm.base_fields["carrier_code"].choices,
        },
    )


def _back_to_grid(request):
    """Back where the grid was (its tab, filters and page); only ever a path on this site."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("home")


@require_POST
@merchant_required
def order_bulk_view(request):
    """Select many -> print labels, print packing slips, or hold."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one order and an action.")
        return _back_to_grid(request)
    action, ids = form.cleaned_data["action"], form.cleaned_data["orders"]
    try:
        if action == "hold":
            held, refused = orders_hold_many(
                merchant=request.merchant, order_ids=ids, reason="Held from the orders grid", actor=request.user
            )
            for reason in refused:
                messages.warning(request, reason)
            messages.success(request, f"{held} order(s) on hold.")
            return _back_to_grid(request)
        if action == "ship":
            shipped, refused = orders_ship_many(
                merchant=request.merchant, order_ids=ids, carrier_code=form.cleaned_data["carrier_code"],
                actor=request.user,
            )  # fmt: skip
            for reason in refused:
                messages.warning(request, reason)
            messages.success(request, f"{shipped} order(s) marked shipped.")
            return _back_to_grid(request)
        batch = print_batch_create(merchant=request.merchant, kind=action, order_ids=ids, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back_to_grid(request)
    return redirect("print-batch", batch_id=batch.pk)


@merchant_required
def print_batch_view(request, batch_id: int):
    batch = get_or_404(print_batch_get, merchant=request.merchant, batch_id=batch_id)
    if request.GET.get("download") and batch.file:
        return FileResponse(
            batch.file.open("rb"), content_type="application/pdf", filename=f"{batch.kind}-{batch.pk}.pdf"
        )
    if request.htmx:  # the progress poll: when the PDF is ready, open it
        response = render(request, "orders/print_batch.html#progress", {"batch": batch})
        if batch.file:
            response["HX-Redirect"] = f"{request.path}?download=1"
        return response
    return render(request, "orders/print_batch.html", {"batch": batch})


EDITORS = {Role.OWNER, Role.STAFF}  # warehouse users see orders, print and ship


@merchant_required
def order_detail_view(request, order_id: int):
    """The order page; its forms post back here so errors show in place."""
    order = get_or_404(order_get, merchant=request.merchant, order_id=order_id)
    action = request.POST.get("action") if request.method == "POST" else None
    can_edit = request.membership.role in EDITORS
    if action in ("notes", "identifier", "tag_add", "tag_remove") and not can_edit:
        raise PermissionDenied("Your role cannot change notes, IMEIs or tags.")
    shipped = shipped_quantities(order)
    open_lines = [
        (line, line.quantity - shipped.get(line.pk, 0))
        for line in order.lines.all()
        if line.removed_at is None
        and line.cancelled_at is None
        and not line.is_adjustment
        and line.quantity - shipped.get(line.pk, 0) > 0
    ]
    notes_form = InternalNotesForm(
        request.POST if action == "notes" else None, initial={"internal_notes": order.internal_notes}
    )
    ship_form = ShipForm(request.POST if action == "ship" else None, lines=open_lines)
    feedback: dict[int, tuple[str, str]] = {}
    done = None
    try:
        if action == "notes" and notes_form.is_valid():
            order_update_internal_notes(order=order, notes=notes_form.cleaned_data["internal_notes"])
            done = "Internal notes saved."
        elif action == "identifier":
            form = LineIdentifierForm(request.POST)
            if form.is_valid():
                line = order.lines.get(pk=form.cleaned_data["line"])
                try:
                    order_line_set_identifier(line=line, value=form.cleaned_data["identifier"])
                    done = f"Saved for {line.sku or line.name}."
                    feedback[line.pk] = ("ok", "Saved.")
                except ApplicationError as exc:
                    feedback[line.pk] = ("error", exc.message)
                if request.htmx:  # just this line's row, swapped in place
                    return _line_row(request, order_id=order.pk, line_id=line.pk, feedback=feedback[line.pk])
        elif action == "resend_email":
            shipment = order.shipments.get(pk=request.POST.get("shipment") or 0)
            shipment_email_resend(shipment=shipment)
            done = f"The shipment email to {order.customer_email} is on its way."
        elif action == "ship" and ship_form.is_valid():
            data = ship_form.cleaned_data
            shipment_create(
                order=order,
                carrier_code=data["carrier_code"],
                service_code=data["service_code"],
                tracking_number=data["tracking_number"],
                generate_tracking=data["generate_tracking"],
                quantities=ship_form.quantities() or None,
                weight_grams=data["weight_grams"],
                carrier_fee=data["carrier_fee"],
                note_to_buyer=data["note_to_buyer"],
                actor=request.user,
            )
            done = "Shipped."
        elif action == "hold":
            order_hold(order=order, reason=request.POST.get("reason", "")[:300], actor=request.user)
            done = "Order on hold."
        elif action == "release":
            order_release_hold(order=order, actor=request.user)
            done = "Order released from hold."
        elif action in ("tag_add", "tag_remove"):
            done = _tag_action(request, order=order, action=action)
    except ApplicationError as exc:
        form = ship_form if action == "ship" else notes_form if action == "notes" else None
        if form is not None:
            for problem in [exc.message, *[p for ps in (exc.field_errors or {}).values() for p in ps]]:
                form.add_error(None, problem)
        else:
            messages.error(request, exc.message)
    except (OrderLine.DoesNotExist, Shipment.DoesNotExist, ValueError) as exc:
        raise Http404("No such line or shipment.") from exc
    if done:
        messages.success(request, done)
        return redirect("order-detail", order_id=order.pk)
    identifiers = {item.line.pk: item for item in order_line_identifiers(order=order)}
    rows = [
        (line, identifiers.get(line.pk), feedback.get(line.pk), shipped.get(line.pk, 0)) for line in order.lines.all()
    ]
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "rows": rows,
            "can_edit": can_edit,
            "notes_form": notes_form,
            "ship_form": ship_form,
            "requires_serials": order.store.requires_serials,
            "tags": list(tag_list(merchant=request.merchant)) if can_edit else [],
        },
    )


def _tag_action(request, *, order: Order, action: str) -> str:
    """Add a tag (an existing one, or a new one named here) to the order, or take one off."""
    tag_id = request.POST.get("tag", "").strip()
    name = request.POST.get("new_tag_name", "").strip()
    if action == "tag_add" and name:
        color = request.POST.get("new_tag_color", "").strip() or DEFAULT_COLOR
        tag_id = str(tag_create(merchant=request.merchant, name=name[:200], color=color[:20]).pk)
    if not tag_id.isdecimal() or len(tag_id) > 18:
        raise ApplicationError("Choose a tag, or name a new one.")
    if action == "tag_add":
        added = order_tag_add(merchant=request.merchant, order_id=order.pk, tag_id=int(tag_id))
        return "Tag added." if added else "The order has this tag already."
    removed = order_tag_remove(merchant=request.merchant, order_id=order.pk, tag_id=int(tag_id))
    return "Tag removed." if removed else "The order did not have this tag."


def _line_row(request, *, order_id: int, line_id: int, feedback: tuple[str, str]):
    order = order_get(merchant=request.merchant, order_id=order_id)  # fresh: notes may hand out other IMEIs
    identifiers = {item.line.pk: item for item in order_line_identifiers(order=order)}
    line = next(line for line in order.lines.all() if line.pk == line_id)
    context = {
        "order": order,
        "line": line,
        "ident": identifiers.get(line_id),
        "feedback": feedback,
        "shipped": shipped_quantities(order).get(line_id, 0),
        "can_edit": True,
    }
    return render(request, "orders/order_detail.html#line-row", context)


@merchant_required
def identifier_check_view(request):
    """Feedback while an IMEI / serial is typed (htmx): the same rules the save applies, nothing stored."""
    line_id = request.GET.get("line", "")
    context = {
        "line_id": int(line_id) if line_id.isdigit() else 0,
        "feedback": identifier_feedback(request.GET.get("identifier", "")[:120]),
    }
    return render(request, "orders/order_detail.html#identifier-feedback", context)


@merchant_required
def order_document_view(request, order_id: int, kind: str):
    """The order's label (of its active shipment) or packing slip, rendered now and kept for reprint."""
    order = get_or_404(order_get, merchant=request.merchant, order_id=order_id)
    try:
        if kind == "label":
            document = label_render(shipment=active_shipment(order))
        elif kind == "packing-slip":
            document = packing_slip_render(order=order)
        else:
            raise Http404("No such document.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("order-detail", order_id=order.pk)
    return FileResponse(
        document.file.open("rb"), content_type="application/pdf", filename=f"{kind}-{order.order_number}.pdf"
    )


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


@merchant_required
def dashboard_view(request):
    figures = dashboard_figures(merchant=request.merchant)
    peak = max((n for _, n in figures["per_day"]), default=0) or 1
    bars = [
        {"day": day, "n": n, "x": i * 20, "height": round(n / peak * 120), "y": 130 - round(n / peak * 120)}
        for i, (day, n) in enumerate(figures["per_day"])
    ]
    stores = store_list_for_dashboard(merchant=request.merchant)
    return render(
        request,
        "orders/dashboard.html",
        {
            "figures": figures,
            "bars": bars,
            "peak": peak,
            "statuses": OrderStatus.choices,
            "attention": [s for s in stores if s.needs_new_credentials or s.open_issue_count or not s.is_active],
        },
    )
