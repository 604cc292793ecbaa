"""Admin pages: SLA policies (matching order, active toggle, conditions and targets) and their
escalation ladders. Also the helpers every SLA admin page shares (admin_page, error status)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.htmx import permission_page
from kefu.sla.forms import PolicyForm, add_ladder_error, ladder_formset, ladder_specs
from kefu.sla.models import SlaPolicy, Target
from kefu.sla.selectors import get_policy, holiday_data_warnings, list_policies
from kefu.sla.services import config
from kefu.tickets.selectors.inbox import format_duration

PERMISSION = "sla.manage"


# sign-in required; other roles than admin get the 403 page; NotFound is a 404
admin_page = permission_page(
    PERMISSION, gettext_lazy("Only administrators may configure SLA policies and business calendars.")
)


def error_status(exc: DomainError) -> int:
    if isinstance(exc, PermissionDenied):
        raise exc
    return exc.status if 400 <= exc.status < 500 else 422


def _targets(policy: SlaPolicy) -> list[tuple[Any, str]]:
    shown = []
    for target, minutes in (
        (Target.FIRST_REPLY, policy.first_reply_minutes),
        (Target.NEXT_REPLY, policy.next_reply_minutes),
        (Target.RESOLUTION, policy.resolution_minutes),
    ):
        if minutes is not None:
            shown.append((target.label, format_duration(minutes * 60)))
    if policy.resolve_same_day:
        shown.append((Target.RESOLUTION.label, _("same business day")))
    return shown


def _conditions(policy: SlaPolicy) -> list[str]:
    return [
        str(f.verbose_name)
        for f in SlaPolicy._meta.get_fields()
        if f.name.startswith("match_") and getattr(policy, f.name)
    ]


@admin_page
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    return _policy_list_page(request)


def _policy_list_page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    policies = list_policies()
    rows = [{"p": p, "targets": _targets(p), "conditions": _conditions(p)} for p in policies]
    ctx = {"rows": rows, "error": error, "tab": "policies", "holiday_warnings": holiday_data_warnings()}
    return render(request, "sla/policy_list.html", ctx, status=status)


def _policy_form_page(request: HttpRequest, policy: SlaPolicy | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                saved = config.save_policy(actor=request.user, policy=policy, **form.service_kwargs())
            except DomainError as exc:
                status = error_status(exc)
                form.add_domain_error(exc)
            else:
                if policy is None:
                    messages.success(
                        request,
                        _("SLA policy %(name)s created. Now set up its escalation ladder.")
                        % {"name": saved.name},
                    )
                    return redirect("sla:policy_ladder", pk=saved.pk)
                messages.success(request, _("SLA policy %(name)s saved.") % {"name": saved.name})
                return redirect("sla:policy_list")
        else:
            status = 422
        form.invalid_class()
    else:
        form = PolicyForm(initial=None if policy is None else PolicyForm.initial_for(policy))
    ctx = {"form": form, "policy": policy, "tab": "policies"}
    return render(request, "sla/policy_edit.html", ctx, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    return _policy_form_page(request, None)


@admin_page
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _policy_form_page(request, get_policy(policy_id=pk))


@admin_page
@require_http_methods(["GET", "POST"])
def policy_ladder(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_policy(policy_id=pk)
    status = 200
    error = ""
    if request.method == "POST":
        formset = ladder_formset(policy, request.POST)
        if formset.is_valid():
            specs, rows = ladder_specs(formset)
            try:
                config.save_ladder(actor=request.user, policy=policy, steps=specs)
            except DomainError as exc:
                status = error_status(exc)
                if not add_ladder_error(formset, rows, exc):
                    error = exc.message
            else:
                messages.success(
                    request, _("The escalation ladder of %(name)s was saved.") % {"name": policy.name}
                )
                return redirect("sla:policy_ladder", pk=policy.pk)
        else:
            status = 422
            error = " ".join(str(e) for e in formset.non_form_errors())
        for form in formset.forms:
            form.invalid_class()
    else:
        formset = ladder_formset(policy)
    ctx = {
        "policy": policy,
        "formset": formset,
        "targets": _targets(policy),
        "error": error,
        "tab": "policies",
    }
    return render(request, "sla/policy_ladder.html", ctx, status=status)


@admin_page
@require_POST
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_policy(policy_id=pk)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return _policy_list_page(request, error=_("Move the policy up or down."), status=400)
    config.move_policy(actor=request.user, policy=policy, offset=offset)
    return redirect("sla:policy_list")


@admin_page
@require_POST
def policy_active(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_policy(policy_id=pk)
    is_active = request.POST.get("is_active") == "1"
    try:
        config.set_policy_active(actor=request.user, policy=policy, is_active=is_active)
    except DomainError as exc:
        return _policy_list_page(request, error=exc.message, status=error_status(exc))
    if is_active:
        messages.success(request, _("SLA policy %(name)s is active.") % {"name": policy.name})
    else:
        messages.success(request, _("SLA policy %(name)s is inactive.") % {"name": policy.name})
    return redirect("sla:policy_list")


@admin_page
@require_POST
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_policy(policy_id=pk)
    try:
        config.delete_policy(actor=request.user, policy=policy)
    except DomainError as exc:
        return _policy_list_page(request, error=exc.message, status=error_status(exc))
    messages.success(request, _("SLA policy %(name)s deleted.") % {"name": policy.name})
    return redirect("sla:policy_list")


urlpatterns = [
    path("policies/", policy_list, name="policy_list"),
    path("policies/new/", policy_new, name="policy_new"),
    path("policies/<int:pk>/", policy_edit, name="policy_edit"),
    path("policies/<int:pk>/ladder/", policy_ladder, name="policy_ladder"),
    path("policies/<int:pk>/move/", policy_move, name="policy_move"),
    path("policies/<int:pk>/active/", policy_active, name="policy_active"),
    path("policies/<int:pk>/delete/", policy_delete, name="policy_delete"),
]
