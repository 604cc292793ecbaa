"""Forms of the ticket page. They only parse and check the shape of input; the services decide.

Templates render the controls by hand (Bootstrap markup, one query per choice list); these forms
validate what comes back.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Department, Team
from kefu.core import clock
from kefu.tickets.choices import FieldType, MessageKind, Priority, Status, TicketType
from kefu.tickets.models import CustomFieldDefinition

TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
DATETIME_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def first_error(form: forms.Form) -> str:
    """The first error of a bound, invalid form, prefixed with the field's label."""
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            return str(errors[0])
        return f"{form.fields[name].label or name}: {errors[0]}"
    return ""


class ComposerForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Message type"),
        choices=[(MessageKind.REPLY, _("Public reply")), (MessageKind.NOTE, _("Internal note"))],
    )
    body = forms.CharField(label=_("Message"), required=False, max_length=50_000, widget=forms.Textarea)


class StatusForm(forms.Form):
    # every status parses; the workflow (in the service) decides which change is allowed
    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=50_000, widget=forms.Textarea)


class ChoiceValueForm(forms.Form):
    value = forms.ChoiceField()

    def __init__(self, *args: Any, label: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = label
        self.fields["value"].choices = choices  # type: ignore[attr-defined]


class ObjectValueForm(forms.Form):
    """An optional reference (assignee, team, category): empty clears it."""

    value: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args: Any, label: Any, queryset: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = label
        self.fields["value"].queryset = queryset  # type: ignore[attr-defined]


class TagsForm(forms.Form):
    value = forms.CharField(label=_("Tags"), required=False, max_length=2000)

    def clean_value(self) -> list[str]:
        names = [t.strip() for t in TAG_SEPARATORS.split(self.cleaned_data["value"] or "")]
        return sorted({t for t in names if t})


def priority_form(data: Any = None) -> ChoiceValueForm:
    return ChoiceValueForm(data, label=_("Priority"), choices=Priority.choices)


def type_form(data: Any = None) -> ChoiceValueForm:
    return ChoiceValueForm(data, label=_("Type"), choices=TicketType.choices)


BOOLEAN_CHOICES = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


def _custom_field(defn: CustomFieldDefinition) -> forms.Field:
    common: dict[str, Any] = {"label": defn.label, "required": defn.required}
    if defn.field_type == FieldType.NUMBER:
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if defn.field_type == FieldType.BOOLEAN:
        return forms.TypedChoiceField(
            choices=BOOLEAN_CHOICES, coerce=lambda v: v == "true", empty_value=None, **common
        )
    if defn.field_type == FieldType.DATE:
        return forms.DateField(input_formats=["%Y-%m-%d"], **common)
    if defn.field_type == FieldType.CHOICE:
        return forms.ChoiceField(
            choices=[("", "—"), *((str(c), str(c)) for c in defn.choices or [])], **common
        )
    return forms.CharField(max_length=1000, **common)


class CustomFieldsForm(forms.Form):
    """One input per active definition, named `cf_<key>`; `values()` gives what update_ticket takes."""

    def __init__(self, *args: Any, definitions: list[CustomFieldDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        for defn in definitions:
            self.fields[f"cf_{defn.key}"] = _custom_field(defn)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for defn in self.definitions:
            value = self.cleaned_data.get(f"cf_{defn.key}")
            if isinstance(value, Decimal):
                value = int(value) if value == value.to_integral_value() else float(value)
            elif isinstance(value, date):
                value = value.isoformat()
            out[defn.key] = None if value in ("", None) else value
        return out


class TransferForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=10_000, widget=forms.Textarea)
    reply_by = forms.DateTimeField(label=_("Reply by"), required=False, input_formats=DATETIME_LOCAL_FORMATS)

    def __init__(self, *args: Any, departments: QuerySet, teams: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def clean_reply_by(self) -> Any:
        # a datetime-local value is read in the user's time zone (activated per request) → aware
        value = self.cleaned_data.get("reply_by")
        if value is not None and value <= clock.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        dept, team = data.get("department"), data.get("team")
        if dept is not None and team is not None and team.department_id != dept.pk:
            self.add_error(
                "team", _("%(team)s is not a team of %(department)s.") % {"team": team, "department": dept}
            )
        return data


class MergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into ticket"), max_length=40)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=10_000, widget=forms.Textarea)
