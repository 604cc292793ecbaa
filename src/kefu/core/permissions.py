"""Roles and coarse permissions. Object-level scoping lives in each app's selectors (SQL)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import PermissionDenied


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    QA = "qa", _("QA inspector")
    KNOWLEDGE_EDITOR = "knowledge_editor", _("Knowledge editor")
    DEPARTMENT_OWNER = "department_owner", _("Department owner")
    EXECUTIVE = "executive", _("Executive")
    ADMIN = "admin", _("Administrator")


ALL = frozenset(Role.values)

# action -> roles allowed to perform it (object scope is checked separately)
PERMISSIONS: dict[str, frozenset[str]] = {
    "ticket.create": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE}),
    "ticket.update": frozenset(
        {Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_OWNER}
    ),
    "ticket.reply": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE}),
    "ticket.note": ALL - {Role.QA},
    "ticket.transition": frozenset(
        {Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_OWNER}
    ),
    "ticket.transfer": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE}),
    "customer.create": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE}),
    "customer.view": ALL,
    "customer.merge": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "token.manage_others": frozenset({Role.ADMIN}),
    "sla.manage": frozenset({Role.ADMIN}),  # calendars, policies, escalation ladders
    "sla.view": frozenset({Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE, Role.QA}),
    "webhook.manage": frozenset({Role.ADMIN}),
    "mailbox.manage": frozenset({Role.ADMIN}),  # channel configuration: mailboxes
    "kb.view": ALL,  # internal and public articles, standard replies, search
    "kb.edit": frozenset({Role.KNOWLEDGE_EDITOR, Role.ADMIN}),  # articles, variants, dictionary, synonyms
    # standard replies: editors and admins for everyone; supervisors for their own teams
    "reply.manage": frozenset({Role.KNOWLEDGE_EDITOR, Role.ADMIN, Role.SUPERVISOR}),
    "bot.tune": frozenset({Role.KNOWLEDGE_EDITOR, Role.ADMIN}),  # the tuning list, bot settings
    # voice of customer: feedback items, reviews, insights, dashboards
    "voc.view": ALL,
    "voc.label": frozenset(
        {Role.AGENT, Role.SUPERVISOR, Role.QA, Role.KNOWLEDGE_EDITOR, Role.ADMIN, Role.DEPARTMENT_OWNER}
    ),
    "voc.import": frozenset({Role.SUPERVISOR, Role.ADMIN}),  # review files, column mappings, ticket rules
    "voc.models": frozenset({Role.SUPERVISOR, Role.KNOWLEDGE_EDITOR, Role.ADMIN}),  # retrain text models
    "voc.taxonomy": frozenset({Role.ADMIN}),  # touchpoint and cause trees
    "voc.insight": frozenset({Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE}),  # acknowledge/dismiss
    # the closed loop: improvement actions, remediation, risks, the weekly report
    "loops.view": ALL,
    "loops.create": frozenset(
        {Role.SUPERVISOR, Role.QA, Role.KNOWLEDGE_EDITOR, Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_OWNER}
    ),
    # accept/commit/progress an action of one's own department (checked per object in services)
    "loops.own": frozenset({Role.DEPARTMENT_OWNER, Role.ADMIN, Role.EXECUTIVE, Role.SUPERVISOR}),
    "loops.claim": frozenset({Role.EXECUTIVE}),
    "loops.remediate": frozenset({Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE}),  # orders to other systems
    "loops.risk": frozenset({Role.SUPERVISOR, Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_OWNER}),
    "loops.settings": frozenset({Role.ADMIN}),
    "email.view_raw": frozenset({Role.SUPERVISOR, Role.ADMIN, Role.QA}),  # download a mail's raw source
}

SEE_ALL_TICKETS = frozenset({Role.EXECUTIVE, Role.ADMIN, Role.QA})


def has_permission(actor: Any, action: str) -> bool:
    if actor is None or not getattr(actor, "is_active", False):
        return False
    if getattr(actor, "is_superuser", False):
        return True
    return getattr(actor, "role", None) in PERMISSIONS.get(action, frozenset())


def authorize(actor: Any, action: str) -> None:
    """Raise PermissionDenied unless the actor's role allows the action."""
    if not has_permission(actor, action):
        raise PermissionDenied(
            gettext("Your role may not perform %(action)s.") % {"action": action},
            code="permission_denied",
            action=action,
        )
