"""HTMX helpers for console views: toasts sent in `HX-Trigger`, and the one mapping of DomainError
to what an htmx page shows (a 4xx with a toast; forms render their own errors inline).

app.js shows `{"kf-toast": {"level": …, "message": …}}` triggers as toasts (an aria-live region).
Header values are JSON with non-ASCII escaped, so Chinese messages survive HTTP headers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from kefu.core.errors import DomainError, NotFound, PermissionDenied
from kefu.core.permissions import has_permission

TOAST_EVENT = "kf-toast"
LEVELS = ("success", "info", "warning", "danger")


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def toast(response: HttpResponse, message: Any, level: str = "info") -> HttpResponse:
    """Ask the page to show `message` as a toast (merged with any other HX-Trigger events)."""
    if level not in LEVELS:
        level = "info"
    return trigger_client_event(response, TOAST_EVENT, {"level": level, "message": str(message)})


def error_message(exc: DomainError) -> str:
    """What to tell the user about a DomainError, translated where kefu can say it generically."""
    if isinstance(exc, PermissionDenied):
        action = exc.extra.get("action")
        if action:
            return _("Your role may not do this (%(action)s).") % {"action": action}
        return _("You are not allowed to do this.")
    if isinstance(exc, NotFound):
        return _("Not found, or not visible to you.")
    return exc.message


def error_response(exc: DomainError, content: str = "", *, status: int | None = None) -> HttpResponse:
    """A 4xx for an htmx request: `content` (a partial with the error inline) or, when empty, a toast.

    Empty 4xx bodies are never swapped into the page, so the toast is all the user sees."""
    response = HttpResponse(content, status=status or exc.status)
    response["X-Kefu-Error"] = exc.code
    if not content:
        toast(response, error_message(exc), "danger")
    return response


def htmx_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For console views: sign-in required (htmx requests are sent to the sign-in page with
    HX-Redirect), and a DomainError the view does not handle itself becomes its HTTP status —
    with a toast for htmx requests, 404 page for NotFound, a plain message otherwise."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if is_htmx(request):
                current = (
                    getattr(getattr(request, "htmx", None), "current_url_abs_path", None)
                    or request.get_full_path()
                )
                return HttpResponseClientRedirect(redirect_to_login(current).url)
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if is_htmx(request):
                return error_response(exc)
            if isinstance(exc, NotFound):
                raise Http404(exc.message) from exc
            return HttpResponse(
                error_message(exc), status=exc.status, content_type="text/plain; charset=utf-8"
            )

    return wrapper


def denied_page(request: HttpRequest, message: Any) -> HttpResponse:
    """The 403 page of a console page the user's role may not open."""
    from django.shortcuts import render

    return render(request, "core/denied.html", {"message": message}, status=403)


def permission_page(
    permission: str, message: Any
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A console page for holders of `permission`: sign-in required (htmx_view), the 403 page with
    `message` for other roles (also when a service refuses), NotFound → 404."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_permission(request.user, permission):
                return denied_page(request, message)
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied:
                return denied_page(request, message)
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return htmx_view(wrapped)

    return decorator
