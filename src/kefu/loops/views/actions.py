"""Improvement-action pages: the list (filters, overdue first, export), the new-action form (prefilled
from an insight, a feedback item or a ticket) and one action with its workflow buttons, commit-date
form, timeline, comments, evidence and milestones. Thin: the services do every write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.accounts.models import Department, User
from kefu.audit.models import AuditEvent
from kefu.core import events as registry
from kefu.core.errors import DomainError
from kefu.core.export import export_response
from kefu.core.htmx import error_message, permission_page
from kefu.core.permissions import has_permission
from kefu.customers.models import Product, Shop
from kefu.loops import workflow
from kefu.loops.choices import ActionStatus, EscalationLevel, MetricKind
from kefu.loops.models import ActionAttachment, ImprovementAction
from kefu.loops.selectors import actions as action_selectors
from kefu.loops.services import actions as svc
from kefu.tickets.models import Ticket
from kefu.voc.choices import TaxonomyKind
from kefu.voc.models import FeedbackItem, Insight, TaxonomyNode

loops_page = permission_page("loops.view", gettext_lazy("You may not open the closed loop."))
SELECT = {"class": "form-select form-select-sm"}


class ActionFilter(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any status")), ("open", gettext_lazy("Open")), *ActionStatus.choices],
        required=False,
        widget=forms.Select(attrs=SELECT),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=gettext_lazy("All departments"),
        widget=forms.Select(attrs=SELECT),
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)
    claimed = forms.BooleanField(label=gettext_lazy("Claimed only"), required=False)
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)


class ActionForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    problem = forms.CharField(
        label=gettext_lazy("Problem statement"), widget=forms.Textarea(attrs={"rows": 4})
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Owning department"), queryset=Department.objects.all()
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.filter(
            is_active=True, role__in=["department_owner", "supervisor", "executive"]
        ),
        required=False,
        empty_label=gettext_lazy("The department head"),
    )
    metric = forms.ChoiceField(
        label=gettext_lazy("Target metric"),
        choices=[("", gettext_lazy("None")), *MetricKind.choices],
        required=False,
    )
    metric_product = forms.ModelChoiceField(
        label=gettext_lazy("Product"), queryset=Product.objects.all(), required=False
    )
    metric_shop = forms.ModelChoiceField(
        label=gettext_lazy("Shop"), queryset=Shop.objects.all(), required=False
    )
    metric_cause = forms.ModelChoiceField(
        label=gettext_lazy("Cause"),
        queryset=TaxonomyNode.objects.filter(kind=TaxonomyKind.CAUSE),
        required=False,
    )
    goal_value = forms.FloatField(label=gettext_lazy("Goal"), required=False)
    insight = forms.IntegerField(required=False, widget=forms.HiddenInput)
    feedback = forms.IntegerField(required=False, widget=forms.HiddenInput)
    ticket = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.HiddenInput):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)


def _prefill(request: HttpRequest) -> dict[str, Any]:
    """Initial values from ?insight=, ?feedback= or ?ticket=."""
    initial: dict[str, Any] = {}
    ins = request.GET.get("insight", "")
    fb = request.GET.get("feedback", "")
    tk = request.GET.get("ticket", "")
    if ins.isdigit() and (insight := Insight.objects.filter(pk=ins).first()):
        initial.update(
            insight=insight.pk,
            title=insight.title[:200],
            problem=_("%(n)d negative feedback items: %(phrases)s")
            % {"n": insight.item_count, "phrases": "、".join(insight.key_phrases)},
            metric_product=insight.product_id,
            metric_cause=insight.cause_id,
            metric=MetricKind.NEGATIVE_REVIEW_RATE,
        )
    elif fb.isdigit() and (item := FeedbackItem.objects.filter(pk=fb).first()):
        initial.update(
            feedback=item.pk, title=item.text[:60], problem=item.text, metric_product=item.product_id,
            metric_cause=item.cause_id,
        )  # fmt: skip
    elif tk.isdigit() and (ticket := Ticket.objects.filter(pk=tk).first()):
        initial.update(
            ticket=ticket.pk, title=ticket.subject[:200], problem=ticket.description or ticket.subject,
            metric_product=ticket.product_id,
        )  # fmt: skip
    return initial


@loops_page
@require_GET
def action_list(request: HttpRequest) -> HttpResponse:
    form = ActionFilter(request.GET or None)
    d = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = action_selectors.ActionFilters(
        status=d.get("status") or "",
        department=d["department"].pk if d.get("department") else None,
        overdue=True if d.get("overdue") else None,
        claimed=True if d.get("claimed") else None,
        q=(d.get("q") or "").strip(),
    )
    qs = action_selectors.list_actions(actor=request.user, filters=filters)
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        return _export(fmt, qs)
    ctx = {
        "form": form,
        "actions": qs[:300],
        "count": qs.count(),
        "query": request.GET.urlencode(),
        "can_create": has_permission(request.user, "loops.create"),
    }
    return render(request, "loops/action_list.html", ctx)


def _export(fmt: str, qs: Any) -> HttpResponse:
    headers = [
        _("Number"), _("Title"), _("Status"), _("Department"), _("Owner"), _("Commit by"),
        _("Committed fix date"), _("Overdue"), _("Escalation"), _("Claimed by"), _("Target metric"),
        _("Baseline"), _("Goal"), _("Created"),
    ]  # fmt: skip
    rows = (
        [
            a.number,
            a.title,
            a.get_status_display(),
            a.department.name,
            str(a.owner or ""),
            a.commit_deadline,
            a.committed_date,
            _("yes") if a.is_overdue else "",
            a.get_escalation_level_display(),
            str(a.claimed_by or ""),
            a.get_metric_display() if a.metric else "",
            a.baseline_value,
            a.goal_value,
            a.created_at,
        ]  # fmt: skip
        for a in qs.iterator()
    )
    return export_response(fmt, "improvement-actions", headers, rows)


@loops_page
@require_http_methods(["GET", "POST"])
def action_new(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, "loops.create"):
        from kefu.core.htmx import denied_page

        return denied_page(request, _("Your role may not create improvement actions."))
    form = ActionForm(request.POST or None, initial=_prefill(request) if request.method == "GET" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            action = svc.create_action(
                actor=request.user,
                title=d["title"],
                problem=d["problem"],
                department_id=d["department"].pk,
                owner_id=d["owner"].pk if d["owner"] else None,
                source="insight"
                if d["insight"]
                else "feedback"
                if d["feedback"]
                else "ticket"
                if d["ticket"]
                else "manual",
                insight_id=d["insight"],
                feedback_item_ids=[d["feedback"]] if d["feedback"] else [],
                ticket_ids=[d["ticket"]] if d["ticket"] else [],
                metric=d["metric"],
                metric_product_id=d["metric_product"].pk if d["metric_product"] else None,
                metric_shop_id=d["metric_shop"].pk if d["metric_shop"] else None,
                metric_cause_id=d["metric_cause"].pk if d["metric_cause"] else None,
                goal_value=d["goal_value"],
            )
        except DomainError as exc:
            form.add_error(None, error_message(exc))
            status = exc.status
        else:
            messages.success(request, _("Improvement action %(number)s created.") % {"number": action.number})
            return redirect("loops:action_detail", pk=action.pk)
    elif request.method == "POST":
        status = 422
    return render(request, "loops/action_new.html", {"form": form}, status=status)


def _timeline(action: ImprovementAction) -> list[dict[str, Any]]:
    evs = AuditEvent.objects.filter(subject_type="improvementaction", subject_id=action.pk).select_related(
        "actor"
    )
    statuses = dict(ActionStatus.choices)
    levels = dict(EscalationLevel.choices)
    out = []
    for ev in evs.order_by("created_at", "id"):
        data = dict(ev.data)
        for key in ("from", "to"):
            if key in data:
                data[key] = str(statuses.get(data[key], data[key]))
        if "level" in data:
            data["level"] = str(levels.get(data["level"], data["level"]))
        out.append({"ev": ev, "text": registry.render(ev.verb, data), "reason": ev.data.get("reason", "")})
    return out


@loops_page
@require_GET
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = action_selectors.get_action(actor=request.user, action_id=pk)
    user = request.user
    owns = svc.may_own(user, action)
    creator_sup = getattr(user, "role", "") == "supervisor" and action.created_by_id == user.pk
    moves = [
        (to, ActionStatus(to).label)
        for to in workflow.allowed(action.status)
        if owns or (creator_sup and to in ("rejected", "closed"))
    ]
    ctx = {
        "action": action,
        "moves": moves,
        "can_commit": owns and action.status in ("proposed", "accepted", "in_progress"),
        "can_claim": has_permission(user, "loops.claim") and action.claimed_by_id != user.pk,
        "can_progress": owns or (has_permission(user, "loops.create") and action.created_by_id == user.pk),
        "timeline": _timeline(action),
        "comments": action.comments.select_related("author").prefetch_related("attachments"),
        "evidence": action.evidence.select_related("feedback_item", "ticket").order_by("id")[:300],
        "milestones": action.milestones.all(),
    }
    return render(request, "loops/action_detail.html", ctx)


def _post(request: HttpRequest, pk: int, run: Any, done: str) -> HttpResponse:
    try:
        run()
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect("loops:action_detail", pk=pk)


@loops_page
@require_POST
def action_transition(request: HttpRequest, pk: int) -> HttpResponse:
    to = request.POST.get("to", "")
    return _post(
        request,
        pk,
        lambda: svc.transition_action(
            actor=request.user, action_id=pk, to=to, reason=request.POST.get("reason", "")
        ),
        _("Status changed."),
    )


@loops_page
@require_POST
def action_commit(request: HttpRequest, pk: int) -> HttpResponse:
    day = request.POST.get("date", "")
    return _post(
        request,
        pk,
        lambda: svc.commit_date(actor=request.user, action_id=pk, date=day),
        _("Fix date committed."),
    )


@loops_page
@require_POST
def action_claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _post(
        request, pk, lambda: svc.claim_action(actor=request.user, action_id=pk), _("You claimed this action.")
    )


@loops_page
@require_POST
def action_comment(request: HttpRequest, pk: int) -> HttpResponse:
    body = request.POST.get("body", "")
    files = request.FILES.getlist("files")
    return _post(
        request,
        pk,
        lambda: svc.add_comment(actor=request.user, action_id=pk, body=body, files=files),
        _("Comment added."),
    )


@loops_page
@require_POST
def action_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    return _post(
        request,
        pk,
        lambda: svc.add_evidence(
            actor=request.user,
            action_id=pk,
            feedback_item_id=request.POST.get("feedback_item_id") or None,
            ticket_id=request.POST.get("ticket_id") or None,
        ),
        _("Evidence added."),
    )


@loops_page
@require_POST
def action_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    if request.POST.get("milestone_id"):
        return _post(
            request,
            pk,
            lambda: svc.complete_milestone(
                actor=request.user,
                milestone_id=request.POST["milestone_id"],
                done=request.POST.get("done") != "0",
            ),
            _("Milestone updated."),
        )
    return _post(
        request,
        pk,
        lambda: svc.add_milestone(
            actor=request.user,
            action_id=pk,
            title=request.POST.get("title", ""),
            due_date=request.POST.get("due_date") or None,
        ),
        _("Milestone added."),
    )


@loops_page
@require_GET
def action_attachment(request: HttpRequest, pk: int, att: int) -> HttpResponse:
    action_selectors.get_action(actor=request.user, action_id=pk)
    a = get_object_or_404(ActionAttachment, pk=att, action_id=pk)
    inline = a.content_type.startswith("image/")
    return FileResponse(
        a.file.open("rb"), content_type=a.content_type, as_attachment=not inline, filename=a.file_name
    )


urlpatterns = [
    path("", action_list, name="action_list"),
    path("actions/new/", action_new, name="action_new"),
    path("actions/<int:pk>/", action_detail, name="action_detail"),
    path("actions/<int:pk>/transition/", action_transition, name="action_transition"),
    path("actions/<int:pk>/commit/", action_commit, name="action_commit"),
    path("actions/<int:pk>/claim/", action_claim, name="action_claim"),
    path("actions/<int:pk>/comments/", action_comment, name="action_comment"),
    path("actions/<int:pk>/evidence/", action_evidence, name="action_evidence"),
    path("actions/<int:pk>/milestones/", action_milestone, name="action_milestone"),
    path("actions/<int:pk>/attachments/<int:att>/", action_attachment, name="action_attachment"),
]
