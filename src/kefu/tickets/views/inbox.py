"""Console: the inbox — ticket views (tabs with capped counts), filters in the query string, keyset
pages, bulk actions and live refresh.

One address, `/tickets/?view=…&status=…&after=…`, serves the whole page, and just the list (with
the tabs out of band) to htmx requests that target `#kf-inbox-list` (filter form, pagination, the
poller), so every state of the list is a shareable URL and works without JavaScript.

Live refresh: the list carries an invisible poller (`hx-trigger="every 20s"`) that re-requests the
same address (filters, sort and cursor included) plus `fp`, a digest of what is on screen. The server
re-reads that page (one query; list requests take the tab counts from a one-minute cache) and answers 204 No
Content when nothing changed, so htmx swaps nothing and focus, scroll, checked boxes and the keyboard
selection stay as they are. When only the counts changed it swaps just the tabs (out of band,
`HX-Reswap: none`). When the page changed it returns the list; inbox.js carries the checked boxes and
the selected row (by ticket id) over the swap, and htmx gives focus back to the element with the
same id.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from kefu.core.errors import DomainError
from kefu.core.htmx import error_message, htmx_view, is_htmx
from kefu.core.permissions import has_permission
from kefu.tickets import selectors, services
from kefu.tickets.choices import Status
from kefu.tickets.forms import BULK_ACTIONS, InboxBulkForm, InboxFilterForm
from kefu.tickets.selectors.inbox import DUE_VIEWS, default_inbox_sort

TABS = (
    ("mine", gettext_lazy("My tickets")),
    ("unassigned", gettext_lazy("Unassigned")),
    ("team", gettext_lazy("My teams")),
    ("pending", gettext_lazy("Waiting on customer")),
    ("due", gettext_lazy("Due soon")),
    ("breached", gettext_lazy("SLA breached")),
    ("all", gettext_lazy("All tickets")),
)
BULK_PERMISSIONS = {
    "assign": "ticket.update",
    "status": "ticket.transition",
    "transfer": "ticket.transfer",
    "tag": "ticket.update",
}
LIST_TARGET = "kf-inbox-list"
POLL_SECONDS = 20


def _query(params: QueryDict, **overrides: Any) -> str:
    """The inbox address for `params` (only inbox keys; empty and default values dropped) with
    `overrides` (None removes a key). The default sort depends on the view (SLA views: due time)."""
    view = overrides.get("view", params.get("view"))
    defaults = {**InboxFilterForm.DEFAULTS, "sort": default_inbox_sort(str(view or ""))}
    q = QueryDict(mutable=True)
    for key in InboxFilterForm.QUERY_KEYS:
        value = params.get(key)
        if value not in (None, "", defaults.get(key)):
            q[key] = value
    for key, value in overrides.items():
        if value is None or (key == "sort" and value == defaults["sort"]):
            q.pop(key, None)
        else:
            q[key] = str(value)
    return q.urlencode()


def _url(query: str) -> str:
    return f"{reverse('inbox')}?{query}" if query else reverse("inbox")


def _tabs(params: QueryDict, view: str, counts: dict[str, int]) -> list[dict[str, Any]]:
    tabs = []
    for key, label in TABS:
        tabs.append(
            {
                "key": key,
                "label": label,
                "active": key == view,
                "count": selectors.count_label(counts[key]),
                # switching between the SLA views and the others also switches to that view's sort
                "url": _url(_query(params, view=key, **_sort_reset(view, key))),
            }
        )
    return tabs


def _sort_reset(current: str, target: str) -> dict[str, None]:
    return {"sort": None} if (current in DUE_VIEWS) != (target in DUE_VIEWS) else {}


def _with_view_sort(params: QueryDict, default_view: str) -> QueryDict:
    """The query with the view's default sort filled in when none is given (the form's own default
    is "newest")."""
    view = params.get("view") or default_view
    if params.get("sort") or default_inbox_sort(view) == "newest":
        return params
    params = params.copy()
    params["sort"] = default_inbox_sort(view)
    return params


def _form_errors(form: Any) -> list[tuple[str, str]]:
    errors = []
    for name, messages_ in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label or name) if field is not None else ""
        errors.extend((label, str(m)) for m in messages_)
    return errors


def _is_list_request(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == LIST_TARGET


@htmx_view
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = request.user
    partial = _is_list_request(request)
    options = None if partial else selectors.get_inbox_options(actor=actor)
    default_view = selectors.default_inbox_view(actor)
    form = InboxFilterForm(
        _with_view_sort(request.GET, default_view), default_view=default_view, options=options
    )
    polled = request.GET.get("fp", "") if partial else ""
    # counts do not depend on the filters or the page: list requests reuse the page's (≤ 1 min old)
    counts = selectors.count_inbox_views(actor=actor, cached=partial)
    if form.is_valid():
        d = form.cleaned_data
        view, status = d["view"], 200
        page = selectors.list_inbox(
            actor=actor,
            view=view,
            filters=form.to_filters(),
            sort=d["sort"],
            after=d["after"],
            before=d["before"],
            limit=d["limit"],
        )
    else:
        view = request.GET.get("view") if request.GET.get("view") in selectors.INBOX_VIEWS else default_view
        page, status = selectors.InboxPage([]), 422
    for t in page.tickets:
        t.sla_badge = page.badges.get(t.pk)  # the row's due badge (clock time)
    fingerprint = selectors.inbox_fingerprint(page, counts)
    same_list = bool(polled) and status == 200 and polled.split("-")[0] == fingerprint.split("-")[0]
    if same_list and polled == fingerprint:
        return HttpResponse(status=204)  # nothing changed: leave the page alone

    params = request.GET
    cursor = {"after": page.after, "before": page.before}
    page_url = _url(_query(params, view=view, **cursor))
    context = {
        "form": form,
        "view": view,
        "page": page,
        "tickets": page.tickets,
        "tabs": _tabs(params, view, counts),
        "errors": _form_errors(form) if status != 200 else [],
        "next_url": _url(_query(params, view=view, after=page.next_cursor)) if page.next_cursor else "",
        "prev_url": _url(_query(params, view=view, before=page.prev_cursor)) if page.prev_cursor else "",
        "poll_url": _url(_query(params, view=view, fp=fingerprint, **cursor)),
        "page_url": page_url,
        "clear_url": _url(_query(QueryDict(), view=view)),
        "poll_seconds": POLL_SECONDS,
        "options": options,
        "bulk_actions": [
            (k, label) for k, label in BULK_ACTIONS if has_permission(actor, BULK_PERMISSIONS[k])
        ],
        "statuses": Status.choices,
    }
    if same_list:  # only the tab counts changed: swap the tabs and the poller, not the list
        response = render(request, "tickets/partials/inbox_refresh.html", context)
        response["HX-Reswap"] = "none"
    elif partial:
        response = render(
            request, "tickets/partials/inbox_list.html", {**context, "oob": True}, status=status
        )
        if not polled:  # a filter or page change (not a poll): make it the address
            response["HX-Push-Url"] = page_url
    else:
        response = render(request, "tickets/inbox.html", context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _run_bulk(actor: Any, form: InboxBulkForm) -> list[services.BulkResult]:
    d = form.cleaned_data
    ids, action = d["ids"], d["action"]
    if action == "assign":
        return services.bulk_assign(actor=actor, ticket_ids=ids, assignee_id=form.assignee_id(actor))
    if action == "status":
        return services.bulk_transition(actor=actor, ticket_ids=ids, to=d["status"])
    if action == "transfer":
        return services.bulk_transfer(
            actor=actor, ticket_ids=ids, department_id=d["department"], team_id=d["team"], note=d["note"]
        )
    return services.bulk_add_tag(actor=actor, ticket_ids=ids, tag=d["tag"])


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("inbox")
    return redirect(target)


@htmx_view
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the checked tickets; answer with a result per ticket (htmx: a partial
    plus a `kf-bulk-done` event that refreshes the list; without JS: messages and a redirect)."""
    form = InboxBulkForm(request.POST)
    results: list[services.BulkResult] = []
    errors: list[tuple[str, str]] = []
    status = 200
    if form.is_valid():
        try:
            results = _run_bulk(request.user, form)
            selectors.forget_inbox_counts(request.user)
        except DomainError as exc:
            field = form.fields.get(exc.field or "")
            errors, status = [(str(field.label) if field else "", error_message(exc))], exc.status
    else:
        errors, status = _form_errors(form), 422

    if not is_htmx(request):
        for label, message in errors:
            messages.error(request, f"{label}: {message}" if label else message)
        if results:
            ok = sum(r.ok for r in results)
            text = ngettext(
                "%(ok)d of %(n)d ticket changed.", "%(ok)d of %(n)d tickets changed.", len(results)
            )
            messages.info(request, text % {"ok": ok, "n": len(results)})
            for r in results:
                if not r.ok:
                    messages.warning(request, f"{r.number} ✗ {r.message}")
        return _back(request)

    context = {
        "results": results,
        "errors": errors,
        "ok_count": sum(r.ok for r in results),
        "failed_count": sum(not r.ok for r in results),
    }
    response = render(request, "tickets/partials/inbox_bulk_results.html", context, status=status)
    if results:
        trigger_client_event(response, "kf-bulk-done", {"ok": [r.ticket_id for r in results if r.ok]})
    return response


urlpatterns = [
    path("tickets/", inbox, name="inbox"),
    path("tickets/bulk/", inbox_bulk, name="inbox_bulk"),
]
