"""The department owner's page (/loops/mine/): the open actions of their department(s), overdue first,
each with what the department must do next."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kefu.accounts.models import Department
from kefu.core import clock
from kefu.loops.choices import ActionStatus
from kefu.loops.models import OPEN_STATUSES, ImprovementAction
from kefu.loops.selectors import actions as action_selectors
from kefu.loops.views.actions import loops_page


def my_departments(user: Any) -> list[Department]:
    q = Q(head_id=user.pk) | Q(teams__memberships__user_id=user.pk)
    if user.department_id:
        q |= Q(pk=user.department_id)
    return list(Department.objects.filter(q).distinct().order_by("id"))


def next_step(action: ImprovementAction) -> tuple[str, str]:
    """(code, text) of what the department must do now."""
    if action.status == ActionStatus.PROPOSED:
        when = (
            action.commit_deadline.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M")
            if action.commit_deadline
            else ""
        )
        return "commit", _("Accept it and commit a fix date by %(when)s") % {"when": when}
    if action.status in (ActionStatus.ACCEPTED, ActionStatus.IN_PROGRESS):
        if action.committed_date is None:
            return "commit", _("Commit a fix date")
        return "implement", _("Implement the fix by %(date)s") % {"date": action.committed_date.isoformat()}
    return "wait", _("Implemented: the result is being verified")


@loops_page
@require_GET
def owner(request: HttpRequest) -> HttpResponse:
    departments = my_departments(request.user)
    qs = (
        action_selectors.list_actions(actor=request.user)
        .filter(department__in=departments, status__in=OPEN_STATUSES)
        .select_related("department", "owner")
    )
    rows = [{"action": a, "step": next_step(a)} for a in qs[:300]]
    return render(request, "loops/owner.html", {"departments": departments, "rows": rows})


urlpatterns = [path("mine/", owner, name="owner")]
