"""Validation of ticket custom fields against admin-defined definitions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.tickets.choices import FieldType
from kefu.tickets.models import CustomFieldDefinition


def _coerce(defn: CustomFieldDefinition, value: Any) -> Any:
    field = f"custom_fields.{defn.key}"
    t = defn.field_type
    if t == FieldType.TEXT:
        if not isinstance(value, str):
            raise ValidationFailed(_("%(field)s must be text.") % {"field": defn.label}, field=field)
        if len(value) > 1000:
            raise ValidationFailed(
                _("%(field)s is longer than %(max)d characters.") % {"field": defn.label, "max": 1000},
                field=field,
            )
        return value
    if t == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed(_("%(field)s must be a number.") % {"field": defn.label}, field=field)
        return value
    if t == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValidationFailed(_("%(field)s must be true or false.") % {"field": defn.label}, field=field)
        return value
    if t == FieldType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationFailed(
                _("%(field)s must be a date (YYYY-MM-DD).") % {"field": defn.label}, field=field
            ) from exc
    if t == FieldType.CHOICE:
        if value not in (defn.choices or []):
            raise ValidationFailed(
                _("%(field)s must be one of: %(choices)s.")
                % {"field": defn.label, "choices": ", ".join(map(str, defn.choices or []))},
                field=field,
            )
        return value
    raise ValidationFailed(  # pragma: no cover
        _("%(field)s has an unknown type.") % {"field": defn.label}, field=field
    )


def validate_custom_fields(
    values: dict[str, Any], *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the merged, validated custom fields. `None` removes a value."""
    if not isinstance(values, dict):
        raise ValidationFailed(_("custom_fields must be an object."), field="custom_fields")
    defs = {d.key: d for d in CustomFieldDefinition.objects.filter(is_active=True)}
    merged = dict(existing or {})
    for key, value in values.items():
        defn = defs.get(key)
        if defn is None:
            raise ValidationFailed(
                _("Unknown custom field '%(key)s'.") % {"key": key}, field=f"custom_fields.{key}"
            )
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = _coerce(defn, value)
    for key, defn in defs.items():
        if defn.required and key not in merged:
            raise ValidationFailed(
                _("%(field)s is required.") % {"field": defn.label}, field=f"custom_fields.{key}"
            )
    return merged
