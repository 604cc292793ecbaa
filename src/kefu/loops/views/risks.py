"""Risk register pages: the list with its 5×5 heat map (likelihood × impact), filters and export; a new
risk; one risk (edit, drills, reviews, linked insights and actions)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.accounts.models import Department, User
from kefu.core.errors import ValidationFailed
from kefu.core.export import export_response
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.loops.choices import RiskStatus, RiskType
from kefu.loops.models import ImprovementAction, Risk
from kefu.loops.services.risks import (
    clean_filter,
    create_risk,
    get_risk,
    heat_map,
    list_risks,
    record_drill,
    review_risk,
    risk_level,
    risk_reviews,
    update_risk,
)
from kefu.voc.models import Insight

SCALE = [(n, str(n)) for n in range(1, 6)]
PAGE = 500
_DENIED = gettext_lazy("Your role may not see the risk register.")
_DENIED_EDIT = gettext_lazy("Your role may not change the risk register.")
_W = {"class": "form-control"}
_S = {"class": "form-select"}


class RiskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Risk"), max_length=200, widget=forms.TextInput(attrs=_W))
    type = forms.ChoiceField(
        label=gettext_lazy("Type"), choices=RiskType.choices, widget=forms.Select(attrs=_S)
    )
    likelihood = forms.TypedChoiceField(
        label=gettext_lazy("Likelihood (1–5)"),
        choices=SCALE,
        coerce=int,
        initial=3,
        widget=forms.Select(attrs=_S),
    )
    impact = forms.TypedChoiceField(
        label=gettext_lazy("Impact (1–5)"),
        choices=SCALE,
        coerce=int,
        initial=3,
        widget=forms.Select(attrs=_S),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=RiskStatus.choices,
        initial="open",
        widget=forms.Select(attrs=_S),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.filter(is_active=True).order_by("display_name", "id"),
        required=False,
        widget=forms.Select(attrs=_S),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.Select(attrs=_S),
    )
    review_every_days = forms.IntegerField(
        label=gettext_lazy("Review every (days)"), initial=90, widget=forms.NumberInput(attrs=_W)
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={**_W, "rows": 3})
    )
    contingency_plan = forms.CharField(
        label=gettext_lazy("Contingency plan"), required=False, widget=forms.Textarea(attrs={**_W, "rows": 4})
    )
    insights = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Linked insights"),
        queryset=Insight.objects.order_by("-impact", "id"),
        required=False,
        widget=forms.SelectMultiple(attrs={**_S, "size": 5}),
    )
    actions = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Linked improvement actions"),
        queryset=ImprovementAction.objects.order_by("-id"),
        required=False,
        widget=forms.SelectMultiple(attrs={**_S, "size": 5}),
    )

    def values(self) -> dict[str, Any]:
        c = self.cleaned_data
        return {
            "title": c["title"],
            "type": c["type"],
            "likelihood": c["likelihood"],
            "impact": c["impact"],
            "status": c["status"],
            "owner_id": c["owner"].pk if c["owner"] else None,
            "department_id": c["department"].pk if c["department"] else None,
            "review_every_days": c["review_every_days"],
            "description": c["description"],
            "contingency_plan": c["contingency_plan"],
            "insight_ids": [i.pk for i in c["insights"]],
            "action_ids": [a.pk for a in c["actions"]],
        }

    def add_domain_error(self, exc: ValidationFailed) -> None:
        name = (exc.field or "").removesuffix("_ids").removesuffix("_id")
        name = {"insight": "insights", "action": "actions"}.get(name, name)
        self.add_error(name if name in self.fields else None, exc.message)


class DrillForm(forms.Form):
    held_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={**_W, "type": "date"})
    )
    result = forms.CharField(label=gettext_lazy("Result"), widget=forms.Textarea(attrs={**_W, "rows": 2}))
    lessons = forms.CharField(
        label=gettext_lazy("Lessons"), required=False, widget=forms.Textarea(attrs={**_W, "rows": 2})
    )


def _initial(risk: Risk) -> dict[str, Any]:
    return {
        "title": risk.title,
        "type": risk.type,
        "likelihood": risk.likelihood,
        "impact": risk.impact,
        "status": risk.status,
        "owner": risk.owner_id,
        "department": risk.department_id,
        "review_every_days": risk.review_every_days,
        "description": risk.description,
        "contingency_plan": risk.contingency_plan,
        "insights": [i.pk for i in risk.insights.all()],
        "actions": [a.pk for a in risk.actions.all()],
    }


def _cells(grid: list[list[int]], base: dict[str, str]) -> list[dict[str, Any]]:
    """Rows impact 5 → 1, each with five cells (likelihood 1 → 5): count, score, level, link."""
    rows = []
    for r, counts in enumerate(grid):
        impact = 5 - r
        cells = []
        for c, count in enumerate(counts):
            likelihood = c + 1
            query = urlencode({**base, "likelihood": likelihood, "impact": impact})
            score = likelihood * impact
            cells.append(
                {
                    "likelihood": likelihood,
                    "impact": impact,
                    "count": count,
                    "score": score,
                    "level": risk_level(score),
                    "url": f"?{query}",
                }
            )
        rows.append({"impact": impact, "cells": cells})
    return rows


@permission_page("loops.view", _DENIED)
@require_GET
def risk_list(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("type", "status", "min_score", "likelihood", "impact")}
    try:
        f = clean_filter(params)
    except ValidationFailed as exc:
        context = {"error": exc, "params": params, "types": RiskType.choices, "statuses": RiskStatus.choices}
        return render(request, "loops/risk_list.html", {**context, "rows": [], "heat": []}, status=422)
    qs = list_risks(actor=request.user, f=f)
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        headers = [
            _("Risk"),
            _("Type"),
            _("Likelihood"),
            _("Impact"),
            _("Score"),
            _("Status"),
            _("Owner"),
            _("Department"),
            _("Next review"),
            _("Contingency plan"),
        ]
        rows = (
            [
                r.title,
                r.get_type_display(),
                r.likelihood,
                r.impact,
                r.score,
                r.get_status_display(),
                str(r.owner or ""),
                r.department.name if r.department else "",
                r.next_review_at,
                r.contingency_plan,
            ]
            for r in qs.iterator()
        )
        return export_response(fmt, "risks", headers, rows)
    base = {k: v for k, v in params.items() if v and k in ("type", "status")}
    context = {
        "rows": [{"risk": r, "level": risk_level(r.score)} for r in qs[:PAGE]],
        "count": qs.count(),
        "heat": _cells(heat_map(actor=request.user, f=f), base),
        "params": params,
        "query": urlencode({k: v for k, v in params.items() if v}),
        "types": RiskType.choices,
        "statuses": RiskStatus.choices,
        "can_edit": has_permission(request.user, "loops.risk"),
    }
    return render(request, "loops/risk_list.html", context)


@permission_page("loops.risk", _DENIED_EDIT)
@require_http_methods(["GET", "POST"])
def risk_new(request: HttpRequest) -> HttpResponse:
    form = RiskForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                risk = create_risk(actor=request.user, **form.values())
            except ValidationFailed as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Risk added."))
                return redirect("loops:risk_detail", risk_id=risk.pk)
        return render(request, "loops/risk_new.html", {"form": form}, status=422)
    return render(request, "loops/risk_new.html", {"form": form})


def _with_url(action: ImprovementAction) -> ImprovementAction:
    try:
        action.url = reverse("loops:action_detail", args=[action.pk])  # type: ignore[attr-defined]
    except NoReverseMatch:
        action.url = ""  # type: ignore[attr-defined]
    return action


def _detail(request: HttpRequest, risk: Risk, **extra: Any) -> dict[str, Any]:
    can_edit = has_permission(request.user, "loops.risk")
    return {
        "risk": risk,
        "level": risk_level(risk.score),
        "reviews": list(risk_reviews(risk)[:50]),
        "linked_actions": [_with_url(a) for a in risk.actions.all()],
        "can_edit": can_edit,
        "form": extra.get("form") or (RiskForm(initial=_initial(risk)) if can_edit else None),
        "drill_form": extra.get("drill_form") or DrillForm(),
    }


@permission_page("loops.view", _DENIED)
@require_GET
def risk_detail(request: HttpRequest, risk_id: int) -> HttpResponse:
    risk = get_risk(actor=request.user, risk_id=risk_id)
    return render(request, "loops/risk_detail.html", _detail(request, risk))


@permission_page("loops.risk", _DENIED_EDIT)
@require_POST
def risk_edit(request: HttpRequest, risk_id: int) -> HttpResponse:
    risk = get_risk(actor=request.user, risk_id=risk_id)
    form = RiskForm(request.POST)
    if form.is_valid():
        try:
            update_risk(actor=request.user, risk_id=risk.pk, **form.values())
        except ValidationFailed as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Risk saved."))
            return redirect("loops:risk_detail", risk_id=risk.pk)
    return render(request, "loops/risk_detail.html", _detail(request, risk, form=form), status=422)


@permission_page("loops.risk", _DENIED_EDIT)
@require_POST
def risk_drill(request: HttpRequest, risk_id: int) -> HttpResponse:
    risk = get_risk(actor=request.user, risk_id=risk_id)
    form = DrillForm(request.POST)
    if form.is_valid():
        try:
            record_drill(actor=request.user, risk_id=risk.pk, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Drill recorded."))
            return redirect("loops:risk_detail", risk_id=risk.pk)
    return render(request, "loops/risk_detail.html", _detail(request, risk, drill_form=form), status=422)


@permission_page("loops.risk", _DENIED_EDIT)
@require_POST
def risk_review(request: HttpRequest, risk_id: int) -> HttpResponse:
    review_risk(actor=request.user, risk_id=risk_id, note=request.POST.get("note", ""))
    messages.success(request, _("Review recorded."))
    return redirect("loops:risk_detail", risk_id=risk_id)


urlpatterns = [
    path("risks/", risk_list, name="risk_list"),
    path("risks/new/", risk_new, name="risk_new"),
    path("risks/<int:risk_id>/", risk_detail, name="risk_detail"),
    path("risks/<int:risk_id>/edit/", risk_edit, name="risk_edit"),
    path("risks/<int:risk_id>/drills/", risk_drill, name="risk_drill"),
    path("risks/<int:risk_id>/review/", risk_review, name="risk_review"),
]
