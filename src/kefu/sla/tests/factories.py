"""SLA scenery: the demo's hotline calendar and complaint policy, built directly (configuration
services are tested on their own)."""

from __future__ import annotations

from kefu.sla.models import Calendar, CalendarHours, EscalationStep, SlaPolicy

HOTLINE = [(8 * 60 + 30, 12 * 60), (13 * 60, 17 * 60 + 30)]  # 08:30–12:00, 13:00–17:30


def hotline_calendar(name: str = "热线") -> Calendar:
    """Mon–Sat 08:30–12:00 and 13:00–17:30, Asia/Shanghai, closed on statutory holidays, open on 调休 days."""
    cal = Calendar.objects.create(name=name, time_zone="Asia/Shanghai", observe_holidays=True)
    CalendarHours.objects.bulk_create(
        CalendarHours(calendar=cal, weekday=d, start_minute=s, end_minute=e)
        for d in range(6)
        for s, e in HOTLINE
    )
    return cal


def always_open_calendar(name: str = "在线 7×24") -> Calendar:
    cal = Calendar.objects.create(name=name, observe_holidays=False)
    CalendarHours.objects.bulk_create(
        CalendarHours(calendar=cal, weekday=d, start_minute=0, end_minute=1440) for d in range(7)
    )
    return cal


def complaint_policy(calendar: Calendar, *, ladder: bool = True, **overrides) -> SlaPolicy:
    """Complaints: first reply in 2 business hours, resolved in 5 business days, with a ladder on
    resolution: 75% → assignee; breached → supervisors and priority up; +2 h → team lead;
    +1 day → department owner; +2 days → executives."""
    fields = {
        "name": "投诉",
        "position": 10,
        "calendar": calendar,
        "match_types": ["complaint"],
        "first_reply_minutes": 120,
        "next_reply_minutes": 240,
        "resolution_minutes": 5 * 8 * 60,  # 5 business days of 8 hours
        "pause_on_pending": True,
    }
    fields.update(overrides)
    policy = SlaPolicy.objects.create(**fields)
    if ladder:
        steps = [
            ("elapsed_percent", 75, "percent", ["assignee"], False, ""),
            ("after_breach", 0, "minutes", ["supervisors"], True, ""),
            ("after_breach", 2, "hours", [], False, "team_lead"),
            ("after_breach", 1, "days", ["department_head"], False, ""),
            ("after_breach", 2, "days", ["executives"], False, ""),
        ]
        EscalationStep.objects.bulk_create(
            EscalationStep(
                policy=policy,
                target="resolution",
                trigger=trigger,
                threshold=threshold,
                unit=unit,
                notify=notify,
                raise_priority=raise_priority,
                reassign_to=reassign,
            )
            for trigger, threshold, unit, notify, raise_priority, reassign in steps
        )
    return policy
