"""Forms of the SLA admin pages: they parse input (HH:MM times, interval lists, minutes) into service
arguments; the rules live in kefu.sla.services.config, whose errors land on the named field."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import DomainError
from kefu.customers.choices import VipTier
from kefu.customers.models import Shop
from kefu.sla.models import (
    Calendar,
    DayKind,
    ReassignTo,
    Recipient,
    SlaPolicy,
    Target,
    ThresholdUnit,
    Trigger,
    Weekday,
)
from kefu.sla.selectors import format_intervals, hhmm, weekly_hours
from kefu.sla.services.config import StepSpec, policy_targets
from kefu.tickets.choices import Channel, Priority, TicketType
from kefu.tickets.models import Tag

_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_DASHES = re.compile(r"\s*[-–—~～至到]\s*")
_SEPARATORS = re.compile(r"[,，;；、\s]+")
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "UTC")


def parse_time(text: str) -> int:
    """ "08:30" → 510; "24:00" → 1440 (an end of day). Raises forms.ValidationError."""
    m = _TIME.match(text.strip())
    if m is None or int(m.group(2)) > 59 or int(m.group(1)) * 60 + int(m.group(2)) > 1440:
        raise forms.ValidationError(
            _("“%(value)s” is not a time like 08:30 (24:00 ends the day)."),
            code="invalid_time",
            params={"value": text},
        )
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_intervals(text: str) -> list[tuple[int, int]]:
    """ "08:30-12:00, 13:00-17:30" → [(510, 720), (780, 1050)]; empty → closed. Order and overlaps
    are checked by the service."""
    text = _DASHES.sub("-", (text or "").strip())
    intervals = []
    for part in filter(None, _SEPARATORS.split(text)):
        pieces = part.split("-")
        if len(pieces) != 2:
            raise forms.ValidationError(
                _("“%(value)s” is not an interval like 08:30-12:00."),
                code="invalid_interval",
                params={"value": part},
            )
        intervals.append((parse_time(pieces[0]), parse_time(pieces[1])))
    return intervals


class ConfigForm(forms.Form):
    """Bootstrap classes on every widget; service errors land on the named field."""

    field_map: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_domain_error(self, exc: DomainError) -> None:
        name = exc.field or ""
        name = self.field_map.get(name, name)
        self.add_error(name if name in self.fields else None, exc.message)

    def invalid_class(self) -> None:
        for name in self.errors:
            if name in self.fields and not isinstance(self.fields[name].widget, forms.CheckboxSelectMultiple):
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


# --- calendars ----------------------------------------------------------------------------------


class CalendarForm(ConfigForm):
    field_map = {f"hours.{d}": f"hours_{d}" for d in range(7)}

    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=50,
        initial="Asia/Shanghai",
        help_text=_("An IANA time zone name, e.g. Asia/Shanghai."),
        widget=forms.TextInput(attrs={"list": "kf-time-zones", "autocomplete": "off"}),
    )
    observe_holidays = forms.BooleanField(
        label=_("Closed on Chinese statutory holidays, open on adjusted working days (调休)"),
        required=False,
        initial=True,
    )
    workday_hours_from = forms.TypedChoiceField(
        label=_("Adjusted and extra working days use the hours of"),
        choices=Weekday.choices,
        coerce=int,
        initial=Weekday.MON,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, label in Weekday.choices:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                widget=forms.TextInput(
                    attrs={"placeholder": _("closed"), "class": "form-control", "autocomplete": "off"}
                ),
            )

    @classmethod
    def initial_for(cls, calendar: Calendar) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "observe_holidays": calendar.observe_holidays,
            "workday_hours_from": calendar.workday_hours_from,
            "is_active": calendar.is_active,
        }
        for day, intervals in weekly_hours(calendar).items():
            initial[f"hours_{day}"] = format_intervals(intervals)
        return initial

    @property
    def hours_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{d}"] for d in range(7)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for day in range(7):
            key = f"hours_{day}"
            if key in data:
                try:
                    data[key] = parse_intervals(data[key])
                except forms.ValidationError as exc:
                    self.add_error(key, exc)
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "time_zone": d["time_zone"],
            "observe_holidays": d["observe_holidays"],
            "workday_hours_from": d["workday_hours_from"],
            "is_active": d["is_active"],
            "hours": [(day, s, e) for day in range(7) for s, e in d[f"hours_{day}"]],
        }


class CalendarDayForm(ConfigForm):
    """A calendar's own closure or extra working day, or (national) a holiday or 调休 day."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args: Any, national: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = (DayKind.HOLIDAY, DayKind.WORKDAY) if national else (DayKind.CLOSED, DayKind.OPEN)
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]  # type: ignore[attr-defined]


class ScheduleImportForm(ConfigForm):
    text = forms.CharField(
        label=_("Dates to enter, one per line"),
        max_length=100_000,
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": "2027-01-01 holiday 元旦\n2027-02-07 workday 春节调休"}
        ),
        help_text=_(
            "“date kind name” or CSV “date,kind,name”; kind is holiday (休) or workday (班). "
            "Lines starting with # are ignored. Dates already entered are updated."
        ),
    )


# --- policies -----------------------------------------------------------------------------------


class TimeOfDayField(forms.Field):
    """HH:MM → minutes after midnight (None when empty)."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()
        return parse_time(text) if text else None


def _minutes(label: Any, help_text: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "data-kf-minutes": ""}),
    )


def _checkboxes(label: Any, choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, required=False, choices=choices, widget=forms.CheckboxSelectMultiple
    )


class PolicyForm(ConfigForm):
    field_map = {"same_day_cutoff_minute": "same_day_cutoff"}

    name = forms.CharField(label=_("Name"), max_length=100)
    calendar = forms.ModelChoiceField(label=_("Business calendar"), queryset=Calendar.objects.none())
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    match_types = _checkboxes(_("Ticket types"), TicketType.choices)
    match_priorities = _checkboxes(_("Priorities"), Priority.choices)
    match_channels = _checkboxes(_("Channels"), Channel.choices)
    match_vip_tiers = _checkboxes(
        _("Customer VIP tiers"),
        [(v, _("No tier") if v == VipTier.NONE else label) for v, label in VipTier.choices],
    )
    match_shop_ids = forms.TypedMultipleChoiceField(
        label=_("Shops"), required=False, coerce=int, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    match_tags = forms.MultipleChoiceField(
        label=_("Tags (any of)"), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    first_reply_minutes = _minutes(_("First reply within"), _("Business minutes: 120 = 2 h."))
    next_reply_minutes = _minutes(_("Next reply within"), _("Business minutes after each customer message."))
    resolution_minutes = _minutes(
        _("Resolve within"),
        _("Business minutes: 2400 = 5 business days of 8 h. Empty: no resolution target."),
    )
    resolve_same_day = forms.BooleanField(
        label=_("Resolve by the end of the same business day (当天结清)"), required=False
    )
    same_day_cutoff = TimeOfDayField(
        label=_("Same-day cut-off"),
        required=False,
        help_text=_("HH:MM; tickets received later are due by the end of the next business day."),
        widget=forms.TextInput(attrs={"placeholder": "16:00", "inputmode": "numeric"}),
    )
    pause_on_pending = forms.BooleanField(
        label=_("Pause resolution while waiting on the customer"), required=False, initial=True
    )
    pause_on_hold = forms.BooleanField(label=_("Pause resolution while on hold"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        calendar = self.fields["calendar"]
        calendar.queryset = Calendar.objects.order_by("-is_active", "name")  # type: ignore[attr-defined]
        calendar.label_from_instance = lambda c: (  # type: ignore[attr-defined]
            c.name if c.is_active else f"{c.name} ({_('inactive')})"
        )
        self.fields["match_shop_ids"].choices = [  # type: ignore[attr-defined]
            (s.pk, s.name) for s in Shop.objects.order_by("id").only("id", "name")
        ]
        self.fields["match_tags"].choices = [  # type: ignore[attr-defined]
            (n, n) for n in Tag.objects.order_by("name").values_list("name", flat=True)
        ]

    @classmethod
    def initial_for(cls, policy: SlaPolicy) -> dict[str, Any]:
        names = [f for f in cls.base_fields if f not in ("calendar", "same_day_cutoff")]
        initial = {f: getattr(policy, f) for f in names}
        initial["calendar"] = policy.calendar_id
        cutoff = policy.same_day_cutoff_minute
        initial["same_day_cutoff"] = "" if cutoff is None else hhmm(cutoff)
        return initial

    def service_kwargs(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d["same_day_cutoff_minute"] = d.pop("same_day_cutoff")
        return d


# --- escalation ladder ----------------------------------------------------------------------------


class StepForm(ConfigForm):
    target = forms.ChoiceField(label=_("Target"), choices=Target.choices)
    trigger = forms.ChoiceField(label=_("When"), choices=Trigger.choices, initial=Trigger.ELAPSED_PERCENT)
    threshold = forms.IntegerField(
        label=_("Threshold"), min_value=0, widget=forms.NumberInput(attrs={"min": 0, "step": 1})
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=ThresholdUnit.choices, initial=ThresholdUnit.PERCENT)
    notify = _checkboxes(_("Notify"), Recipient.choices)
    raise_priority = forms.BooleanField(label=_("Raise the priority one level"), required=False)
    reassign_to = forms.ChoiceField(label=_("Reassign to"), choices=ReassignTo.choices, required=False)

    def __init__(self, *args: Any, targets: list[tuple[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if targets:
            self.fields["target"].choices = targets  # type: ignore[attr-defined]
            self.fields["target"].initial = targets[0][0]

    def spec(self) -> StepSpec:
        d = self.cleaned_data
        return StepSpec(
            target=d["target"],
            trigger=d["trigger"],
            threshold=d["threshold"],
            unit=d["unit"],
            notify=tuple(d["notify"]),
            raise_priority=d["raise_priority"],
            reassign_to=d["reassign_to"] or "",
        )


StepFormSet = formset_factory(StepForm, extra=1, can_delete=True, max_num=50, validate_max=True)


_TARGET_ORDER = {t: n for n, t in enumerate(Target.values)}
_UNIT_MINUTES = {
    ThresholdUnit.PERCENT: 0,
    ThresholdUnit.MINUTES: 1,
    ThresholdUnit.HOURS: 60,
    ThresholdUnit.DAYS: 1440,
}


def _ladder_order(step: Any) -> tuple[int, int, int]:
    """Rows in the order they fire: per target, the shares of the target, then after the breach."""
    after = step.trigger == Trigger.AFTER_BREACH
    return (_TARGET_ORDER.get(step.target, 9), after, step.threshold * _UNIT_MINUTES.get(step.unit, 1))


def ladder_formset(policy: SlaPolicy, data: Any = None) -> Any:
    """The policy's steps as rows (plus one blank row); only the policy's targets are offered."""
    timed = policy_targets(policy)
    targets = [(t.value, t.label) for t in Target if t.value in timed]
    initial = [
        {
            "target": s.target,
            "trigger": s.trigger,
            "threshold": s.threshold,
            "unit": s.unit,
            "notify": list(s.notify),
            "raise_priority": s.raise_priority,
            "reassign_to": s.reassign_to,
        }
        for s in sorted(policy.steps.all(), key=_ladder_order)
    ]
    formset = StepFormSet(data, prefix="steps", initial=initial, form_kwargs={"targets": targets})
    for form in formset.forms:
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"
    return formset


def ladder_specs(formset: Any) -> tuple[list[StepSpec], list[StepForm]]:
    """The rows to save, and the form of each (service errors name ``steps.<index>``)."""
    specs: list[StepSpec] = []
    rows: list[StepForm] = []
    for form in formset.forms:
        if formset.can_delete and formset._should_delete_form(form):
            continue
        if form.empty_permitted and not form.has_changed():
            continue
        specs.append(form.spec())
        rows.append(form)
    return specs, rows


def add_ladder_error(formset: Any, rows: list[StepForm], exc: DomainError) -> bool:
    """Put a service error on its row (and field); False when it names no row."""
    parts = (exc.field or "").split(".")
    if parts[0] != "steps" or len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) >= len(rows):
        return False
    form = rows[int(parts[1])]
    column = parts[2] if len(parts) > 2 else ""
    form.add_error(column if column in form.fields else None, exc.message)
    return True
