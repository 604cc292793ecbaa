"""Normalization of customer identities, so one person is found from any channel."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.core.text import clean_text
from kefu.customers.choices import IdentityKind


def normalize_phone(raw: str) -> str:
    """E.164 for any common input form; mainland China is the default region.

    `138 0013 8000`, `+86-13800138000`, `0086 138-0013-8000`, `(010) 8888 6666` all work.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise ValidationFailed(_("Phone number is empty."), field="phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            _("'%(value)s' is not a phone number.") % {"value": raw}, field="phone"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(_("'%(value)s' is not a valid phone number.") % {"value": raw}, field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip().lower()
    try:
        validate_email(text)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            _("'%(value)s' is not an email address.") % {"value": raw}, field="email"
        ) from exc
    return text


_SPACE = re.compile(r"\s+")


def normalize_plain(raw: str, field: str) -> str:
    text = clean_text(unicodedata.normalize("NFKC", raw or ""), field, 190, required=True, single_line=True)
    return _SPACE.sub(" ", text)


def normalize_identity(kind: str, raw: str) -> str:
    if kind == IdentityKind.PHONE:
        return normalize_phone(raw)
    if kind == IdentityKind.EMAIL:
        return normalize_email(raw)
    if kind in IdentityKind.values:
        return normalize_plain(raw, kind)
    raise ValidationFailed(_("Unknown identity kind '%(kind)s'.") % {"kind": kind}, field="kind")
