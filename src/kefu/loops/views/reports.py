"""Weekly VoC report pages: the weeks (with "generate now"), one week's report (tables, a 差评率 trend
chart, a claim (认领) button on each action for executives) and its PDF."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import ValidationFailed
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.loops.services.actions import claim_action
from kefu.loops.services.report_pdf import report_context, report_pdf
from kefu.loops.services.reports import (
    generate_weekly_report,
    get_report,
    list_reports,
    previous_week,
)

_DENIED = gettext_lazy("Your role may not see the weekly report.")
_DENIED_GENERATE = gettext_lazy("Your role may not generate the weekly report.")
_DENIED_CLAIM = gettext_lazy("Only executives claim actions.")
WEEK = r"(?P<week>\d{4}-\d{2}-\d{2})"


@permission_page("loops.view", _DENIED)
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    context = {
        "reports": list_reports(actor=request.user),
        "can_generate": has_permission(request.user, "loops.create"),
        "default_week": previous_week(),
    }
    return render(request, "loops/report_list.html", context)


@permission_page("loops.create", _DENIED_GENERATE)
@require_POST
def report_generate(request: HttpRequest) -> HttpResponse:
    week = request.POST.get("week_start") or None
    try:
        report = generate_weekly_report(week_start=week, actor=request.user)
    except ValidationFailed as exc:
        context = {
            "reports": list_reports(actor=request.user),
            "can_generate": True,
            "default_week": week,
            "error": exc,
        }
        return render(request, "loops/report_list.html", context, status=422)
    messages.success(request, _("Report generated."))
    return redirect("loops:report_detail", week=report.week_start.isoformat())


@permission_page("loops.view", _DENIED)
@require_GET
def report_detail(request: HttpRequest, week: str) -> HttpResponse:
    report = get_report(actor=request.user, week_start=week)
    context = report_context(report)
    context["can_claim"] = has_permission(request.user, "loops.claim")
    context["can_generate"] = has_permission(request.user, "loops.create")
    return render(request, "loops/report_detail.html", context)


@permission_page("loops.view", _DENIED)
@require_GET
def report_pdf_view(request: HttpRequest, week: str) -> HttpResponse:
    report = get_report(actor=request.user, week_start=week)
    response = HttpResponse(report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="kefu-voc-{report.week_start.isoformat()}.pdf"'
    return response


@permission_page("loops.claim", _DENIED_CLAIM)
@require_POST
def report_claim(request: HttpRequest, week: str, action_id: str) -> HttpResponse:
    report = get_report(actor=request.user, week_start=week)
    action = claim_action(actor=request.user, action_id=int(action_id))
    messages.success(request, _("You claimed %(number)s.") % {"number": action.number})
    return redirect(
        reverse("loops:report_detail", args=[report.week_start.isoformat()]) + f"#action-{action.pk}"
    )


urlpatterns = [
    re_path(r"^reports/$", report_list, name="report_list"),
    re_path(r"^reports/generate/$", report_generate, name="report_generate"),
    re_path(rf"^reports/{WEEK}/$", report_detail, name="report_detail"),
    re_path(rf"^reports/{WEEK}\.pdf$", report_pdf_view, name="report_pdf"),
    re_path(rf"^reports/{WEEK}/claim/(?P<action_id>\d+)/$", report_claim, name="report_claim"),
]
