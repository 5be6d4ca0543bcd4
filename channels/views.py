from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shipping.accounts.decorators import merchant_required
from shipping.core.errors import ApplicationError, RemoteError
from shipping.core.views import get_or_404

from .models import Store, SyncIssue
from .selectors import channel_call_list, store_get, store_list, sync_issue_get, sync_issue_list, sync_run_list
from .services.sync_issue_retry import sync_issue_retry
from .tasks import import_orders_for_store


def _store_or_404(request, store_id: int) -> Store:
    return get_or_404(store_get, merchant=request.merchant, store_id=store_id)


@merchant_required
def store_list_view(request):
    return render(request, "channels/store_list.html", {"stores": store_list(merchant=request.merchant)})


@merchant_required
def store_detail_view(request, store_id: int):
    store = _store_or_404(request, store_id)
    return render(
        request,
        "channels/store_detail.html",
        {
            "store": store,
            "runs": sync_run_list(store=store, limit=20),
            "issues": sync_issue_list(store=store),
            "calls": channel_call_list(store=store, limit=20),
            "mappings": store.status_mappings.all(),
        },
    )


@require_POST
@merchant_required
def store_sync_view(request, store_id: int):
    store = _store_or_404(request, store_id)
    import_orders_for_store.delay_on_commit(store.pk, trigger="manual")
    messages.success(request, f"An import of {store.name} has been queued.")
    return redirect("store-detail", store_id=store.pk)


@require_POST
@merchant_required
def sync_issue_retry_view(request, issue_id: int):
    issue = get_or_404(sync_issue_get, merchant=request.merchant, issue_id=issue_id)
    try:
        issue = sync_issue_retry(issue=issue)
    except (ApplicationError, RemoteError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        if issue.status == SyncIssue.Status.RESOLVED:
            messages.success(request, f"Record {issue.external_id} imported.")
        else:
            messages.warning(request, f"Record {issue.external_id} still fails: {issue.message}")
    return redirect("store-detail", store_id=issue.store_id)
