"""The closed loop's settings (one row): the commit deadline, the business calendar, the ladder, the
verification window and the weekly report's recipients. Admins only; every change audited."""

from __future__ import annotations

from typing import Any

from django.core.validators import validate_email
from django.db import transaction
from django.forms import ValidationError as FormValidationError
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.loops import events
from kefu.loops.models import LoopSettings
from kefu.sla.models import Calendar

DAYS = ("commit_within_days", "escalate_owner_after", "escalate_head_after", "escalate_executive_after")
FIELDS = (*DAYS, "verification_days", "calendar_id", "report_recipients")
MAX_DAYS = 60


def _int(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Enter a whole number."), field=name) from None
    if not low <= number <= high:
        raise ValidationFailed(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}, field=name
        )
    return number


def _recipients(value: Any) -> str:
    lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
    for line in lines:
        try:
            validate_email(line)
        except FormValidationError:
            raise ValidationFailed(
                _("“%(address)s” is not an email address.") % {"address": line[:100]},
                field="report_recipients",
            ) from None
    return "\n".join(dict.fromkeys(lines))


@transaction.atomic
def update_loop_settings(*, actor: Any, **changes: Any) -> LoopSettings:
    """Change some settings; unknown names and bad values are refused naming the field."""
    authorize(actor, "loops.settings")
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown setting."), field=sorted(unknown)[0])
    current = LoopSettings.load()
    current = LoopSettings.objects.select_for_update().get(pk=current.pk)
    clean: dict[str, Any] = {}
    for name in DAYS:
        if name in changes:
            clean[name] = _int(name, changes[name], 1 if name == "commit_within_days" else 0, MAX_DAYS)
    if "verification_days" in changes:
        clean["verification_days"] = _int("verification_days", changes["verification_days"], 7, 180)
    if "calendar_id" in changes:
        value = changes["calendar_id"]
        if value in (None, ""):
            clean["calendar_id"] = None
        elif not Calendar.objects.filter(pk=value if str(value).isdigit() else 0).exists():
            raise ValidationFailed(_("Choose a business calendar."), field="calendar_id")
        else:
            clean["calendar_id"] = int(value)
    if "report_recipients" in changes:
        clean["report_recipients"] = _recipients(changes["report_recipients"])
    head = clean.get("escalate_head_after", current.escalate_head_after)
    owner = clean.get("escalate_owner_after", current.escalate_owner_after)
    executive = clean.get("escalate_executive_after", current.escalate_executive_after)
    if not owner <= head <= executive:
        raise ValidationFailed(
            _("The ladder climbs in order: owner, then department head, then executives."),
            field="escalate_head_after",
        )
    changed = {k: v for k, v in clean.items() if getattr(current, k) != v}
    if not changed:
        return current
    before = {k: getattr(current, k) for k in changed}
    for k, v in changed.items():
        setattr(current, k, v)
    current.save()
    record_event(
        actor=actor,
        verb=events.SETTINGS_CHANGED.verb,
        subject=current,
        data={"fields": ", ".join(sorted(changed)), "from": before, "to": changed},
    )
    return current
