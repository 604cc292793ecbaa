"""What every knowledge-base console page shares: the permission gates and the tab context."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission

# sign-in required; the 403 page for other roles (also when a service refuses); NotFound → 404
kb_page = permission_page("kb.view", gettext_lazy("Your role may not read the knowledge base."))
editor_page = permission_page(
    "kb.edit", gettext_lazy("Only knowledge editors and administrators may edit the knowledge base.")
)
reply_page = permission_page(
    "reply.manage",
    gettext_lazy(
        "Only knowledge editors, administrators and supervisors (for their teams) manage standard replies."
    ),
)


def error_status(exc: DomainError) -> int:
    """The status to re-render a form with; a refusal goes to the 403 page."""
    if isinstance(exc, PermissionDenied):
        raise exc
    return exc.status if 400 <= exc.status < 500 else 422


def kb_context(request: HttpRequest, tab: str, **extra: Any) -> dict[str, Any]:
    user = request.user
    return {
        "tab": tab,
        "can_edit": has_permission(user, "kb.edit"),
        "can_manage_replies": has_permission(user, "reply.manage"),
        **extra,
    }
