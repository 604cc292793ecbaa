"""Placeholders in standard replies: {customer.name}, {ticket.number}, {agent.name}, …

Filling is one pass of a regular expression over the text: a value is inserted as it is (a customer
named "{agent.name}" stays that name), nothing is evaluated (no str.format, no attribute access), and
a placeholder kefu does not know, or has no value for, stays visible exactly as typed so the agent
sees what to fill in by hand. The caller (the ticket page) builds the context dict; this module knows
nothing of tickets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# (name, label) — the editor's help lists these
PLACEHOLDERS: list[tuple[str, str | Promise]] = [
    ("customer.name", _("Customer's name")),
    ("customer.phone", _("Customer's phone number")),
    ("ticket.number", _("Ticket number")),
    ("ticket.subject", _("Ticket subject")),
    ("agent.name", _("Your name")),
    ("agent.team", _("Your team")),
    ("today", _("Today's date")),
]
NAMES = frozenset(name for name, _label in PLACEHOLDERS)

# {name} or {name.part}, ASCII letters, digits and underscores, optional spaces inside the braces;
# full-width braces (｛customer.name｝, typed with a Chinese IME) count too
_PATTERN = re.compile(r"[{｛]\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*[}｝]")


@dataclass
class Filled:
    text: str
    unknown: list[str] = field(default_factory=list)  # placeholders kefu does not know
    missing: list[str] = field(default_factory=list)  # known ones without a value in the context


def find_placeholders(body: str) -> list[str]:
    """Every placeholder-like name in the text, in order, once each."""
    seen: dict[str, None] = {}
    for m in _PATTERN.finditer(body or ""):
        seen.setdefault(m.group(1), None)
    return list(seen)


def unknown_placeholders(body: str) -> list[str]:
    return [name for name in find_placeholders(body) if name not in NAMES]


def fill_reply(body: str, context: dict[str, str]) -> Filled:
    """Fill known placeholders from `context` (name → text); report unknown and missing ones."""
    unknown: dict[str, None] = {}
    missing: dict[str, None] = {}

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in NAMES:
            unknown.setdefault(name, None)
            return m.group(0)
        value = context.get(name)
        if value is None or str(value) == "":
            missing.setdefault(name, None)
            return m.group(0)
        return str(value)

    text = _PATTERN.sub(replace, body or "")
    return Filled(text=text, unknown=list(unknown), missing=list(missing))


def render_reply(body: str, context: dict[str, str]) -> str:
    """The reply text with placeholders filled; unknown or unfilled ones are left as typed
    (see fill_reply for the report)."""
    return fill_reply(body, context).text
