"""Standard reply pages: the list, one reply, the editor (with the placeholders' help) and delete.
Everybody reads; editors and admins manage all replies, supervisors their own teams' ones."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.permissions import has_permission
from kefu.knowledge import selectors, services
from kefu.knowledge.forms import ReplyForm
from kefu.knowledge.models import StandardReply
from kefu.knowledge.placeholders import PLACEHOLDERS, find_placeholders, unknown_placeholders
from kefu.knowledge.views.common import error_status, kb_context, kb_page, reply_page

PAGE_LIMIT = 500


def _team_filter(raw: str | None) -> int | None:
    """ "" → every team, "0" → shared only, "12" → that team."""
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@kb_page
@require_GET
def reply_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    q = (request.GET.get("q") or "").strip()[:100]
    team_id = _team_filter(request.GET.get("team"))
    replies = list(selectors.list_replies(actor=user, q=q, team_id=team_id)[:PAGE_LIMIT])
    own = set(selectors.member_team_ids(user))
    manages_all = selectors.manages_all_replies(user)
    may_manage = has_permission(user, "reply.manage")
    rows = [
        {
            "reply": r,
            "can_manage": may_manage and (manages_all or (r.team_id is not None and r.team_id in own)),
            "unknown": unknown_placeholders(r.body),
        }
        for r in replies
    ]
    ctx = kb_context(
        request,
        "replies",
        rows=rows,
        q=q,
        team_id=team_id,
        teams=selectors.reply_team_choices(user) if manages_all else [],
        truncated=len(replies) >= PAGE_LIMIT,
    )
    return render(request, "knowledge/reply_list.html", ctx)


@kb_page
@require_GET
def reply_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reply = selectors.get_reply(actor=request.user, reply_id=pk)
    ctx = kb_context(
        request,
        "replies",
        reply=reply,
        can_manage=selectors.can_manage_reply(request.user, reply),
        placeholders=find_placeholders(reply.body),
        unknown=unknown_placeholders(reply.body),
    )
    return render(request, "knowledge/reply_detail.html", ctx)


def _reply_form_page(request: HttpRequest, reply: StandardReply | None) -> HttpResponse:
    user = request.user
    if reply is not None and not selectors.can_manage_reply(user, reply):
        raise PermissionDenied(_("Supervisors manage the standard replies of their own teams only."))
    shared_allowed = selectors.manages_all_replies(user)
    status = 200
    if request.method == "POST":
        form = ReplyForm(request.POST, actor=user, shared_allowed=shared_allowed)
        status = 422
        if form.is_valid():
            try:
                saved = services.save_reply(
                    actor=user, reply_id=reply.pk if reply else None, **form.service_kwargs()
                )
            except DomainError as exc:
                status = error_status(exc)
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Standard reply “%(title)s” saved.") % {"title": saved.title})
                unknown = unknown_placeholders(saved.body)
                if unknown:
                    messages.warning(
                        request,
                        _("Not filled in automatically (left as typed): %(names)s")
                        % {"names": ", ".join("{" + n + "}" for n in unknown)},
                    )
                return redirect("knowledge:reply_detail", pk=saved.pk)
        form.invalid_class()
    else:
        initial = ReplyForm.initial_for(reply) if reply else None
        form = ReplyForm(initial=initial, actor=user, shared_allowed=shared_allowed)
    ctx = kb_context(request, "replies", reply=reply, form=form, placeholders=PLACEHOLDERS)
    return render(request, "knowledge/reply_edit.html", ctx, status=status)


@reply_page
@require_http_methods(["GET", "POST"])
def reply_new(request: HttpRequest) -> HttpResponse:
    return _reply_form_page(request, None)


@reply_page
@require_http_methods(["GET", "POST"])
def reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply_form_page(request, selectors.get_reply(actor=request.user, reply_id=pk))


@reply_page
@require_POST
def reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = selectors.get_reply(actor=request.user, reply_id=pk)
    services.delete_reply(actor=request.user, reply_id=reply.pk)
    messages.success(request, _("Standard reply “%(title)s” deleted.") % {"title": reply.title})
    return redirect("knowledge:reply_list")


urlpatterns: list = [
    path("replies/", reply_list, name="reply_list"),
    path("replies/new/", reply_new, name="reply_new"),
    path("replies/<int:pk>/", reply_detail, name="reply_detail"),
    path("replies/<int:pk>/edit/", reply_edit, name="reply_edit"),
    path("replies/<int:pk>/delete/", reply_delete, name="reply_delete"),
]
