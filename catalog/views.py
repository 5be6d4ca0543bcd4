"""The catalog pages: products grid, product page (stock, movements, listings), add, CSV import and export.

Thin views over catalog.services and catalog.selectors. Everyone on the merchant's team sees them; owners
and staff change things (warehouse users see stock and listings, as they see orders, but do not adjust
stock, edit listing settings, add, import or export products).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from orders.selectors import warehouse_list
from shipping.accounts.decorators import merchant_required, role_required
from shipping.accounts.models import Role
from shipping.core.errors import ApplicationError
from shipping.core.views import form_errors_from, get_or_404

from .forms import ListingSettingsForm, ProductFilterForm, ProductForm, ProductsImportForm, StockAdjustForm
from .selectors import (
    LISTING_STATES,
    PRODUCT_SORT_DEFAULT,
    listing_event_page,
    listing_store_list,
    product_detail_get,
    product_grid_page,
    stock_movement_page,
)
from .services.listing_settings import listing_settings_save
from .services.products import product_create
from .services.products_csv import products_export_csv, products_import_csv
from .services.stock import stock_adjust

EDITORS = {Role.OWNER, Role.STAFF}  # warehouse users see products, stock and listings; they change nothing here


def int_param(value: str | None, *, default: int | None = None) -> int | None:
    """A positive whole number from a query string; anything else (junk, huge, negative) is the default."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 18 and int(value) > 0:
        return int(value)
    return default


@merchant_required
def product_list_view(request):
    stores = list(listing_store_list(merchant=request.merchant))
    filters = ProductFilterForm(request.GET or None, stores=stores)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    store = next((s for s in stores if s.pk == criteria.get("store")), stores[0] if stores else None)
    page = product_grid_page(
        merchant=request.merchant,
        store=store,
        search=(criteria.get("q") or "").strip(),
        listing=criteria.get("listing") or "",
        stock=criteria.get("stock") or "",
        sort=request.GET.get("sort"),
        page=int_param(request.GET.get("page"), default=1),
    )
    # Headers and pager keep the filters; headers set their own sort; only the pager has a page number.
    filter_query = request.GET.copy()
    for name in ("sort", "page"):
        filter_query.pop(name, None)
    query = filter_query.copy()
    if page.sort != PRODUCT_SORT_DEFAULT:
        query["sort"] = page.sort
    listed = store is not None
    columns = [
        ("sku", "SKU", ""),
        ("name", "Name", ""),
        ("on_hand", "On hand", "num"),
        ("allocated", "Allocated", "num"),
        ("available", "Available", "num"),
        ("bm_quantity" if listed else None, "Qty on Back Market", "num"),
        ("price" if listed else None, "Price / default", "num"),
        ("min_price" if listed else None, "Minimum", "num"),
        (None, "Listing", ""),
        (None, "Buybox", ""),
        (None, "Last error", ""),
    ]
    headers = [
        {"label": label, "class": css, "sort": key and page.sort_toggle(key), "aria_sort": key and page.aria_sort(key)}
        for key, label, css in columns
    ]
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "filters": filters,
            "headers": headers,
            "query": query.urlencode(),
            "filter_query": filter_query.urlencode(),
            "states": LISTING_STATES,
            "can_edit": request.membership.role in EDITORS,
        },
    )


@role_required(Role.OWNER, Role.STAFF)
def product_create_view(request):
    form = ProductForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_create(merchant=request.merchant, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, f"{product.sku} added to the catalog.")
            return redirect("product-detail", product_id=product.pk)
    return render(request, "catalog/product_new.html", {"form": form})


@merchant_required
def product_detail_view(request, product_id: int):
    """The product page; its forms post back here so errors show in place."""
    product = get_or_404(product_detail_get, merchant=request.merchant, product_id=product_id)
    action = request.POST.get("action") if request.method == "POST" else None
    can_edit = request.membership.role in EDITORS
    if action and not can_edit:
        raise PermissionDenied("Your role cannot change stock or listings.")
    warehouses = list(warehouse_list(merchant=request.merchant))
    adjust_form = StockAdjustForm(request.POST if action == "adjust" else None, warehouses=warehouses)
    stores = list(listing_store_list(merchant=request.merchant))
    settings_by_store = {s.store_id: s for s in product.listing_settings.all()}
    bindings_by_store = {b.store_id: b for b in product.listing_bindings.all()}
    posted_store = int_param(request.POST.get("store")) if action == "listing" else None
    if action == "listing" and posted_store not in {s.pk for s in stores}:
        raise Http404("No such Back Market store.")
    listings = []
    for store in stores:
        settings = settings_by_store.get(store.pk)
        form = ListingSettingsForm(
            request.POST if posted_store == store.pk else None,
            prefix=f"store-{store.pk}",
            initial=ListingSettingsForm.initial_for(settings),
        )
        listings.append(
            {"store": store, "form": form, "settings": settings, "binding": bindings_by_store.get(store.pk)}
        )
    done = None
    if action == "adjust" and adjust_form.is_valid():
        try:
            change = stock_adjust(product=product, actor=request.user, **adjust_form.service_kwargs())
        except ApplicationError as exc:
            form_errors_from(adjust_form, exc)
        else:
            done = "Stock adjusted." if change.movements else "Nothing changed: on hand was that count already."
    elif action == "listing":
        entry = next(entry for entry in listings if entry["store"].pk == posted_store)
        if entry["form"].is_valid():
            try:
                listing_settings_save(store=entry["store"], product=product, **entry["form"].service_kwargs())
            except ApplicationError as exc:
                form_errors_from(entry["form"], exc)
            else:
                done = f"Listing settings for {entry['store'].name} saved."
    if done:
        messages.success(request, done)
        return redirect("product-detail", product_id=product.pk)
    levels = list(product.stock_levels.all())
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "levels": levels,
            "totals": {
                "on_hand": sum(level.on_hand for level in levels),
                "allocated": sum(level.allocated for level in levels),
                "available": sum(level.available for level in levels),
            },
            "movements": stock_movement_page(
                merchant=request.merchant, product_id=product.pk, before=int_param(request.GET.get("before"))
            ),
            "events": listing_event_page(merchant=request.merchant, product_id=product.pk, size=10),
            "bindings": list(product.listing_bindings.all()),
            "listings": listings,
            "states": LISTING_STATES,
            "adjust_form": adjust_form,
            "can_edit": can_edit,
        },
    )


@role_required(Role.OWNER, Role.STAFF)
def product_import_view(request):
    stores = list(listing_store_list(merchant=request.merchant))
    posted = request.method == "POST"
    form = ProductsImportForm(request.POST if posted else None, request.FILES if posted else None, stores=stores)
    report = None
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = products_import_csv(
                merchant=request.merchant,
                data=upload.read(),
                store=form.stores.get(form.cleaned_data.get("store")),
                actor=request.user,
                filename=upload.name[:100],
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
    return render(request, "catalog/product_import.html", {"form": form, "report": report, "stores": stores})


@role_required(Role.OWNER, Role.STAFF)
def product_export_view(request):
    """The catalog as CSV, in the columns the import reads; with ?store= the store's listing columns too."""
    stores = {s.pk: s for s in listing_store_list(merchant=request.merchant)}
    store = stores.get(int_param(request.GET.get("store")))
    sellercloud = request.GET.get("names") == "sellercloud"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"products-{timezone.localdate():%Y-%m-%d}{'-' + str(store.pk) if store else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # so Excel reads UTF-8 (the import skips it)
    products_export_csv(merchant=request.merchant, out=response, store=store, sellercloud_names=sellercloud)
    return response
