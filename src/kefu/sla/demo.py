"""The demo's service-level setup: calendars, policies with ladders, clocks on recent open tickets,
and the National Day scenario replayed step by step (a complaint at 17:20 on Friday 2025-09-26)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from kefu.accounts.models import Team, User
from kefu.core import clock
from kefu.sla.calendars import business_calendar
from kefu.sla.models import Calendar, CalendarHours, EscalationStep, SlaPolicy, SlaTimer
from kefu.sla.services import scan_due_timers, start_ticket_sla
from kefu.sla.services import timers as t
from kefu.tickets.choices import Status
from kefu.tickets.models import Ticket

CST = ZoneInfo("Asia/Shanghai")
HOTLINE = [(8 * 60 + 30, 12 * 60), (13 * 60, 17 * 60 + 30)]
SCENARIO_KEY = "demo-sla-national-day-2025"
RECENT_DAYS = 2

# name -> (weekday intervals in minutes, days, observe holidays)
CALENDARS: dict[str, tuple[list[tuple[int, int]], range, bool]] = {
    "热线 (周一至周六 8:30–17:30)": (HOTLINE, range(6), True),
    "在线客服 7×24": ([(0, 1440)], range(7), False),
    "电商店铺 (每天 9:00–24:00)": ([(9 * 60, 1440)], range(7), False),
}
HOTLINE_CAL, ONLINE_CAL, SHOP_CAL = CALENDARS

RESOLUTION_LADDER: list[tuple[str, int, str, list[str], bool, str]] = [
    ("elapsed_percent", 75, "percent", ["assignee"], False, ""),
    ("after_breach", 0, "minutes", ["supervisors"], True, ""),
    ("after_breach", 2, "hours", [], False, "team_lead"),
    ("after_breach", 1, "days", ["department_head"], False, ""),
    ("after_breach", 2, "days", ["executives"], False, ""),
]
FIRST_REPLY_LADDER: list[tuple[str, int, str, list[str], bool, str]] = [
    ("elapsed_percent", 80, "percent", ["assignee"], False, ""),
    ("after_breach", 0, "minutes", ["supervisors"], False, ""),
]

# (name, calendar, conditions, targets, ladders by target)
POLICIES: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, list]]] = [
    (
        "电商差评投诉·当天结清",
        SHOP_CAL,
        {"match_types": ["complaint"], "match_channels": ["tmall", "jd"]},
        {"first_reply_minutes": 30, "resolve_same_day": True, "same_day_cutoff_minute": 22 * 60},
        {"first_reply": FIRST_REPLY_LADDER},
    ),
    (
        "投诉",
        HOTLINE_CAL,
        {"match_types": ["complaint"]},
        {"first_reply_minutes": 120, "next_reply_minutes": 240, "resolution_minutes": 5 * 480},
        {"resolution": RESOLUTION_LADDER, "first_reply": FIRST_REPLY_LADDER},
    ),
    (
        "紧急工单",
        HOTLINE_CAL,
        {"match_priorities": ["urgent"]},
        {"first_reply_minutes": 30, "next_reply_minutes": 60, "resolution_minutes": 480},
        {"resolution": RESOLUTION_LADDER[:3], "first_reply": FIRST_REPLY_LADDER},
    ),
    (
        "在线咨询",
        ONLINE_CAL,
        {"match_channels": ["chat", "wechat", "mini_program"]},
        {"first_reply_minutes": 5, "next_reply_minutes": 10, "resolution_minutes": 24 * 60},
        {"first_reply": FIRST_REPLY_LADDER},
    ),
    (
        "标准服务",
        HOTLINE_CAL,
        {},
        {"first_reply_minutes": 240, "next_reply_minutes": 480, "resolution_minutes": 3 * 480},
        {"resolution": RESOLUTION_LADDER[:2]},
    ),
]


def ensure_demo_sla(now: datetime) -> str:
    """Create the demo SLA setup once; returns a line for the seed's report ('' if it existed)."""
    if SlaPolicy.objects.exists():
        return ""
    with transaction.atomic():
        calendars = {}
        for name, (intervals, days, observe) in CALENDARS.items():
            cal = Calendar.objects.create(name=name, observe_holidays=observe)
            CalendarHours.objects.bulk_create(
                CalendarHours(calendar=cal, weekday=d, start_minute=s, end_minute=e)
                for d in days
                for s, e in intervals
            )
            calendars[name] = cal
        for position, (name, cal_name, conditions, targets, ladders) in enumerate(POLICIES, start=1):
            policy = SlaPolicy.objects.create(
                name=name, position=position * 10, calendar=calendars[cal_name], **conditions, **targets
            )
            EscalationStep.objects.bulk_create(
                EscalationStep(
                    policy=policy,
                    target=target,
                    trigger=trigger,
                    threshold=threshold,
                    unit=unit,
                    notify=notify,
                    raise_priority=up,
                    reassign_to=reassign,
                )
                for target, steps in ladders.items()
                for trigger, threshold, unit, notify, up, reassign in steps
            )
    started = start_recent_tickets(now)
    scenario = replay_national_day_scenario()
    result = scan_due_timers(now=now)
    return (
        f"SLA: {len(CALENDARS)} calendars, {len(POLICIES)} policies; "
        f"clocks on {started} recent open tickets; {result.breaches} breaches and "
        f"{result.steps} escalations so far; National Day scenario: {scenario}"
    )


def start_recent_tickets(now: datetime) -> int:
    """Start clocks on the open tickets of the last days as if the policies had applied all along."""
    since = now - timedelta(days=RECENT_DAYS)
    open_states = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
    ids = list(
        Ticket.objects.filter(created_at__gte=since, status__in=open_states, sla_due_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for ticket_id in ids:
        with transaction.atomic():
            start_ticket_sla(actor=None, ticket_id=ticket_id)
            _catch_up(ticket_id)
    return len(ids)


def _catch_up(ticket_id: int) -> None:
    """A seeded ticket's history happened without clocks: meet the first reply when it was sent
    and pause resolution if the ticket waits on the customer."""
    ticket = Ticket.objects.get(pk=ticket_id)
    timers = {x.target: x for x in SlaTimer.objects.filter(ticket=ticket).select_related("policy__calendar")}
    for timer in timers.values():
        cal = business_calendar(timer.policy.calendar) if timer.policy else None
        if cal is None:
            continue
        if timer.target == "first_reply" and ticket.first_response_at:
            t.meet(timer, cal, ticket.first_response_at)
        elif timer.target == "resolution" and t.resolution_paused_by(timer.policy, ticket.status):
            t.pause(timer, cal, ticket.status_changed_at or ticket.created_at)
        t.schedule(timer, timer.policy, cal)
    t.save_timers(timers.values(), clock.now())
    t.sync_ticket(ticket, timers.values())


def replay_national_day_scenario() -> str:
    """The complaint from the issue, replayed with the clock at each moment: created Friday
    2025-09-26 17:20 on the hotline, answered Saturday, left alone after the customer's reply."""
    from kefu.tickets.services import add_message, create_ticket, transition_ticket

    if Ticket.objects.filter(external_id=SCENARIO_KEY).exists():
        return "already there"
    team = Team.objects.filter(name="一线热线组").first()
    agent = User.objects.filter(username="agent1").first()
    if team is None or agent is None:
        return "skipped (no hotline team or agent1)"

    def at(*args: int) -> Any:
        return clock.replaying_at(datetime(*args, tzinfo=CST))

    with at(2025, 9, 26, 17, 20):
        ticket, _ = create_ticket(
            actor=agent,
            subject="制氧机噪音大、三次报修未解决，要求退货",
            description="客户来电投诉：制氧机夜间噪音很大，已经报修三次仍未解决，情绪激动，要求退货并赔偿。",
            type="complaint",
            channel="phone",
            priority="normal",
            customer_name="赵女士",
            customer_identities={"phone": "13911112222"},
            team_id=team.pk,
            assignee_id=agent.pk,
            external_id=SCENARIO_KEY,
        )
    with at(2025, 9, 27, 9, 0):
        add_message(
            actor=agent,
            ticket_id=ticket.pk,
            kind="reply",
            body="赵女士您好，非常抱歉给您带来困扰。请您提供购买凭证和设备铭牌照片，我们马上为您处理。",
        )
        transition_ticket(actor=agent, ticket_id=ticket.pk, to="pending")
    with at(2025, 9, 29, 10, 0):
        add_message(
            actor=agent, ticket_id=ticket.pk, kind="customer", body="凭证和照片已经发到微信了，请尽快处理。"
        )
    with at(2025, 9, 29, 14, 30):
        add_message(
            actor=agent, ticket_id=ticket.pk, kind="reply", body="已收到，已申请退货审批，请耐心等待。"
        )
    # left alone from here: the ladder climbs at each step's instant
    timer = SlaTimer.objects.get(ticket=ticket, target="resolution")
    steps = 0
    while timer.next_action_at is not None:
        moment = timer.next_action_at
        with clock.replaying_at(moment):
            steps += scan_due_timers(now=moment).steps
        timer.refresh_from_db()
    return f"{ticket.number}, {steps} escalations"
