"""SLA event types. Data keeps codes and UTC ISO instants; `_prepare` turns them into labels and
times in the reader's zone when the timeline, the bell or a mail renders them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.events import register
from kefu.tickets.choices import Priority


def _local(value: Any) -> str:
    try:
        return timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "—"


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _prepare(data: dict[str, Any]) -> dict[str, Any]:
    from kefu.sla.models import Recipient, Target, ThresholdUnit, TimerStatus, Trigger

    data["target"] = _label(Target, data.get("target"))
    for key in ("due_at", "breached_at", "at"):
        if key in data:
            data[key] = _local(data[key])
    data["status"] = _label(TimerStatus, data.get("status"))
    if "unit" in data:
        if data.get("trigger") == Trigger.ELAPSED_PERCENT:
            data["threshold"] = f"{data.get('threshold')}%"
        else:
            data["threshold"] = gettext("breached + %(n)s %(unit)s") % {
                "n": data.get("threshold"),
                "unit": _label(ThresholdUnit, data["unit"]),
            }
    if isinstance(data.get("targets"), dict):
        data["targets"] = "; ".join(
            f"{Target(t).label} {_local(due)}" for t, due in data["targets"].items() if t in Target.values
        ) or gettext("no targets")
    actions = []
    for who in data.get("notified", []):
        try:
            actions.append(gettext("notified %(who)s") % {"who": Recipient(who).label})
        except ValueError:
            continue
    if data.get("priority_to"):
        actions.append(
            gettext("priority raised to %(priority)s") % {"priority": _label(Priority, data["priority_to"])}
        )
    if data.get("reassigned_to_name"):
        actions.append(gettext("reassigned to %(name)s") % {"name": data["reassigned_to_name"]})
    data["actions"] = ", ".join(actions) or "—"
    return data


SLA_APPLIED = register("sla.applied", _("SLA policy {policy} applies: {targets}"), _prepare)
SLA_REMOVED = register("sla.removed", _("No SLA policy applies any more"), _prepare)
SLA_RECOMPUTED = register("sla.recomputed", _("SLA recomputed under {policy}: {targets}"), _prepare)
TIMER_STARTED = register("sla.timer_started", _("{target} target started, due {due_at}"), _prepare)
TIMER_PAUSED = register("sla.timer_paused", _("{target} clock paused"), _prepare)
TIMER_RESUMED = register("sla.timer_resumed", _("{target} clock resumed, due {due_at}"), _prepare)
TIMER_MET = register("sla.timer_met", _("{target} target met"), _prepare)
BREACHED = register("sla.breached", _("{target} target breached (due {due_at})"), _prepare)
ESCALATED = register("sla.escalated", _("Escalation for {target} ({threshold}): {actions}"), _prepare)

CALENDAR_SAVED = register("sla.calendar_saved", _("Business calendar {name} saved"))
CALENDAR_DAY_SAVED = register("sla.calendar_day_saved", _("Calendar day {date} set to {kind}"))
CALENDAR_DAY_DELETED = register("sla.calendar_day_deleted", _("Calendar day {date} removed"))
POLICY_SAVED = register("sla.policy_saved", _("SLA policy {name} saved"))
POLICY_DELETED = register("sla.policy_deleted", _("SLA policy {name} deleted"))
POLICIES_REORDERED = register("sla.policies_reordered", _("SLA policies reordered"))
NATIONAL_SCHEDULE_IMPORTED = register(
    "sla.national_schedule_imported", _("National holiday schedule: {count} days entered ({first} to {last})")
)
LADDER_SAVED = register("sla.ladder_saved", _("Escalation ladder of SLA policy {name} saved: {count} steps"))
