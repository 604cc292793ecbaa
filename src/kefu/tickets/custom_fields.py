"""Validation of ticket custom fields against admin-defined definitions."""

from __future__ import annotations

from datetime import date
from typing import Any

from kefu.core.errors import ValidationFailed
from kefu.tickets.choices import FieldType
from kefu.tickets.models import CustomFieldDefinition


def _coerce(defn: CustomFieldDefinition, value: Any) -> Any:
    field = f"custom_fields.{defn.key}"
    t = defn.field_type
    if t == FieldType.TEXT:
        if not isinstance(value, str):
            raise ValidationFailed(f"{defn.label} must be text.", field=field)
        if len(value) > 1000:
            raise ValidationFailed(f"{defn.label} is longer than 1000 characters.", field=field)
        return value
    if t == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed(f"{defn.label} must be a number.", field=field)
        return value
    if t == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValidationFailed(f"{defn.label} must be true or false.", field=field)
        return value
    if t == FieldType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationFailed(f"{defn.label} must be a date (YYYY-MM-DD).", field=field) from exc
    if t == FieldType.CHOICE:
        if value not in (defn.choices or []):
            raise ValidationFailed(
                f"{defn.label} must be one of: {', '.join(map(str, defn.choices or []))}.", field=field
            )
        return value
    raise ValidationFailed(f"{defn.label} has an unknown type.", field=field)  # pragma: no cover


def validate_custom_fields(
    values: dict[str, Any], *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the merged, validated custom fields. `None` removes a value."""
    if not isinstance(values, dict):
        raise ValidationFailed("custom_fields must be an object.", field="custom_fields")
    defs = {d.key: d for d in CustomFieldDefinition.objects.filter(is_active=True)}
    merged = dict(existing or {})
    for key, value in values.items():
        defn = defs.get(key)
        if defn is None:
            raise ValidationFailed(f"Unknown custom field '{key}'.", field=f"custom_fields.{key}")
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = _coerce(defn, value)
    for key, defn in defs.items():
        if defn.required and key not in merged:
            raise ValidationFailed(f"{defn.label} is required.", field=f"custom_fields.{key}")
    return merged
