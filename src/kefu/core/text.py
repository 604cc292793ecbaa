"""Text handling shared by every app: cleaning user input (Chinese segmentation joins later)."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed

# control characters other than tab/newline/carriage return; NUL also breaks PostgreSQL text columns
_FORBIDDEN = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def clean_text(
    value: object, field: str, max_len: int, *, required: bool = False, single_line: bool = False
) -> str:
    """Strip, NFC-normalize and check user text; raise ValidationFailed naming `field`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s must be text.") % {"field": field}, field=field)
    text = unicodedata.normalize("NFC", value).strip()
    if any(ch in _FORBIDDEN for ch in text):
        raise ValidationFailed(_("%(field)s contains control characters.") % {"field": field}, field=field)
    if single_line and ("\n" in text or "\r" in text):
        raise ValidationFailed(_("%(field)s must be a single line.") % {"field": field}, field=field)
    if required and not text:
        raise ValidationFailed(_("%(field)s must not be empty.") % {"field": field}, field=field)
    if len(text) > max_len:
        raise ValidationFailed(
            _("%(field)s is longer than %(max)d characters.") % {"field": field, "max": max_len}, field=field
        )
    return text


def strip_control(value: str) -> str:
    """For search terms: drop control characters instead of refusing."""
    return "".join(ch for ch in value if ch not in _FORBIDDEN)
