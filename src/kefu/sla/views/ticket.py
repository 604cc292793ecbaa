"""Where agents see SLA: the badges in the ticket page's header, one per target, loaded by htmx
when the header renders and refreshed every minute (`hx-trigger="load, every 60s"`).

Times left are business time (the ticket's calendar); due times are shown in the user's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kefu.core.htmx import htmx_view
from kefu.sla.models import TimerStatus
from kefu.sla.selectors import TicketTimer, get_ticket_sla
from kefu.tickets.selectors.inbox import format_duration, format_when

# amber when less than a quarter of the target or less than one business hour is left
SOON_SHARE = 0.25
SOON_SECONDS = 3600
CSS = {
    "ok": "text-bg-success",
    "soon": "text-bg-warning",
    "overdue": "text-bg-danger",
    "paused": "text-bg-secondary",
    "met": "text-bg-light border border-success",
    "met_late": "text-bg-light border border-danger",
}


@dataclass(frozen=True)
class Badge:
    target: str
    state: str  # one of CSS's keys
    text: str
    due_at: datetime | None = None  # in the user's zone, shown for running clocks
    due_text: str = ""

    @property
    def css(self) -> str:
        return CSS[self.state]


def timer_badge(timer: TicketTimer, now: datetime) -> Badge | None:
    """The badge of one clock (None for cancelled ones)."""
    target, left = timer.target_label, timer.remaining_seconds
    if timer.status == TimerStatus.RUNNING:
        due = timezone.localtime(timer.due_at) if timer.due_at else None
        due_text = format_when(due, now) if due else ""
        if left is None:  # the calendar cannot count (e.g. a year without holiday data)
            return Badge(timer.target, "overdue" if timer.breached else "ok", target, due, due_text)
        if left < 0:
            text = _("%(target)s: overdue by %(duration)s (business time)")
            state = "overdue"
        else:
            text = _("%(target)s: due in %(duration)s (business time)")
            soon = left < SOON_SECONDS or left < timer.target_seconds * SOON_SHARE
            state = "soon" if soon else "ok"
        return Badge(
            timer.target, state, text % {"target": target, "duration": format_duration(left)}, due, due_text
        )
    if timer.status == TimerStatus.PAUSED:
        if left is not None and left > 0:
            text = _("%(target)s: paused, %(duration)s left (business time)")
            return Badge(timer.target, "paused", text % {"target": target, "duration": format_duration(left)})
        return Badge(timer.target, "paused", _("%(target)s: paused") % {"target": target})
    if timer.status == TimerStatus.MET:
        took = format_duration(timer.business_seconds or 0)
        if timer.breached:
            text = _("%(target)s: met late, in %(duration)s (business time)")
            return Badge(timer.target, "met_late", text % {"target": target, "duration": took})
        text = _("%(target)s: met in %(duration)s (business time)")
        return Badge(timer.target, "met", text % {"target": target, "duration": took})
    return None


@htmx_view
@require_GET
def ticket_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    sla = get_ticket_sla(actor=request.user, ticket_id=ticket_id)
    badges = [b for b in (timer_badge(t, sla.at) for t in sla.timers) if b is not None]
    title = ""
    if sla.calendar:
        title = _("Business calendar: %(calendar)s · policy: %(policy)s") % {
            "calendar": sla.calendar,
            "policy": sla.policy,
        }
    return render(
        request, "sla/partials/ticket_sla_panel.html", {"sla": sla, "badges": badges, "title": title}
    )


urlpatterns = [
    path("tickets/<int:ticket_id>/panel/", ticket_panel, name="ticket_panel"),
]
