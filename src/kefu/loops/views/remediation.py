"""Remediation pages: the orders (with their webhook delivery state), ordering one from an action or a
ticket, and reversing one; and the verification partial's re-verify button."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.customers.models import Shop
from kefu.loops.choices import RemediationKind, RemediationStatus
from kefu.loops.models import ImprovementAction
from kefu.loops.services import remediation, verification
from kefu.tickets.selectors import get_ticket

PAGE_SIZE = 50


class RemediationForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Remediation"), choices=RemediationKind.choices)
    shop_id = forms.TypedChoiceField(label=gettext_lazy("Shop"), coerce=int, required=False, empty_value=None)
    target = forms.CharField(
        label=gettext_lazy("Target"),
        max_length=200,
        help_text=gettext_lazy("The SKU, front-warehouse code or promotion id."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea({"rows": 3})
    )
    action_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    ticket_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shops = Shop.objects.filter(is_active=True).order_by("name")
        self.fields["shop_id"].choices = [("", "—"), *((s.pk, f"{s.name} ({s.code})") for s in shops)]


class ReverseForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why reverse it?"), max_length=2000)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@permission_page("loops.view", gettext_lazy("Your role may not see remediation orders."))
@require_http_methods(["GET"])
def remediation_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in RemediationStatus.values:
        status = ""
    qs = remediation.list_remediations(
        actor=request.user, action_id=_int(request.GET.get("action")), status=status
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    states = remediation.delivery_states([o.pk for o in page])
    rows = [{"order": o, "deliveries": states[o.pk]} for o in page]
    ctx = {
        "rows": rows,
        "page": page,
        "status": status,
        "statuses": RemediationStatus.choices,
        "can_remediate": has_permission(request.user, "loops.remediate"),
        "reverse_form": ReverseForm(),
    }
    return render(request, "loops/remediation_list.html", ctx)


@permission_page("loops.remediate", gettext_lazy("Your role may not order remediation."))
@require_http_methods(["GET", "POST"])
def remediation_new(request: HttpRequest) -> HttpResponse:
    action = ticket = None
    if request.method == "POST":
        form = RemediationForm(request.POST)
    else:
        initial = {"action_id": _int(request.GET.get("action")), "ticket_id": _int(request.GET.get("ticket"))}
        form = RemediationForm(initial=initial)
    raw_action = form.data.get("action_id") if form.is_bound else form.initial.get("action_id")
    raw_ticket = form.data.get("ticket_id") if form.is_bound else form.initial.get("ticket_id")
    if raw_action and str(raw_action).isdigit():
        action = ImprovementAction.objects.filter(pk=int(raw_action)).first()
    if raw_ticket and str(raw_ticket).isdigit():
        try:
            ticket = get_ticket(actor=request.user, ticket_id=int(raw_ticket))
        except NotFound:
            ticket = None
    if not form.is_bound:  # the shop of the action's metric or of the ticket, to start with
        form.initial["shop_id"] = (action.metric_shop_id if action else None) or (
            ticket.shop_id if ticket else None
        )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                order = remediation.order_remediation(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                if isinstance(exc, ValidationFailed) and exc.field in form.fields:
                    form.add_error(exc.field, exc.message)
                else:
                    form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Remediation ordered: %(kind)s %(target)s.")
                    % {"kind": order.get_kind_display(), "target": order.target},
                )
                return redirect("loops:remediation_list")
        status = 422
    ctx = {"form": form, "action": action, "ticket": ticket}
    return render(request, "loops/remediation_form.html", ctx, status=status)


@permission_page("loops.remediate", gettext_lazy("Your role may not reverse remediation."))
@require_POST
def remediation_reverse(request: HttpRequest, order_id: int) -> HttpResponse:
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to reverse the order."))
        return redirect("loops:remediation_list")
    try:
        order = remediation.reverse_remediation(
            actor=request.user, order_id=order_id, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Remediation reversed: %(target)s.") % {"target": order.target})
    return redirect("loops:remediation_list")


@permission_page("loops.own", gettext_lazy("Your role may not re-verify improvement actions."))
@require_POST
def action_reverify(request: HttpRequest, pk: int) -> HttpResponse:
    """Compute an action's verification again (the button of the verification partial)."""
    try:
        action = verification.reverify(actor=request.user, action_id=pk)
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Verification computed again: %(result)s.") % {"result": action.get_status_display()},
        )
    return redirect("loops:action_detail", pk)


urlpatterns = [
    path("remediation/", remediation_list, name="remediation_list"),
    path("remediation/new/", remediation_new, name="remediation_new"),
    path("remediation/<int:order_id>/reverse/", remediation_reverse, name="remediation_reverse"),
    # the verification's one page action lives here (the action pages belong to views.actions)
    path("actions/<int:pk>/reverify/", action_reverify, name="action_reverify"),
]
