"""Checks the knowledge-base services share: choices, references, integer ids."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_choice(value: Any, choices: type[models.TextChoices], field: str) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise ValidationFailed(
            _("%(field)s: choose one of %(allowed)s.")
            % {"field": field, "allowed": ", ".join(choices.values)},
            field=field,
        )
    return value


def check_ref(model: type[models.Model], value: Any, field: str) -> Any:
    """The row with that id, or None for None; a 422 naming the field when it does not exist."""
    if value is None or value == "":
        return None
    row = model._default_manager.filter(pk=value).first() if is_int(value) else None
    if row is None:
        raise ValidationFailed(
            _("%(field)s: %(value)s does not exist.") % {"field": field, "value": str(value)[:30]},
            field=field,
        )
    return row
