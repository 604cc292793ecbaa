"""The NinjaAPI root: authentication, and the one mapping of errors to HTTP."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, SessionAuth

from kefu.accounts.selectors import get_active_token
from kefu.accounts.services import touch_api_token
from kefu.core.errors import DomainError


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        api_token = get_active_token(token)
        if api_token is None:
            return None
        touch_api_token(api_token)
        request.user = api_token.user
        return api_token.user


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class BrowserSession(SessionAuth):
    """Session auth for the web pages' own calls. Only a signed-in session is checked (with CSRF);
    a client that sends a bearer token or no credentials gets 401, not a CSRF 403."""

    def __call__(self, request):
        if "HTTP_AUTHORIZATION" in request.META or not request.user.is_authenticated:
            return None
        return super().__call__(request)


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="kefu API",
    version="1",
    description="kefu (客服) REST API. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `kefu token create USERNAME`) or a browser session.",
    auth=[BearerToken(), BrowserSession()],
    urls_namespace="api-1",
)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _field(loc: list | tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "file", "payload")]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [
        {"field": _field(e.get("loc", ())), "message": e.get("msg", _("invalid")), "type": e.get("type", "")}
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": _("invalid input")}
    status = 400 if any(e["type"] == "json_invalid" for e in errors) else 422
    code = "malformed_json" if status == 400 else "validation_failed"
    body = {"code": code, "message": f"{first['field'] or 'body'}: {first['message']}", "errors": errors}
    if first["field"]:
        body["field"] = first["field"]
    return api.create_response(request, body, status=status)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return api.create_response(
        request,
        {"code": "not_authenticated", "message": _("Send 'Authorization: Bearer <token>' or sign in.")},
        status=401,
    )


@api.exception_handler(Http404)
def on_404(request, exc):
    return api.create_response(
        request, {"code": "not_found", "message": str(exc) or _("Not found.")}, status=404
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = {
        400: "malformed_json" if "parse request body" in str(exc) else "bad_request",
        403: "csrf_failed" if "CSRF" in str(exc) else "permission_denied",
        413: "too_large",
        415: "unsupported_media_type",
    }.get(exc.status_code, "error")
    return api.create_response(request, {"code": code, "message": str(exc)}, status=exc.status_code)


@api.exception_handler(DataError)
def on_data_error(request, exc):
    # a value the database refuses (e.g. out of range); input validation should catch these first
    return api.create_response(
        request,
        {"code": "invalid_data", "message": _("A value is out of range for the database.")},
        status=422,
    )


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return api.create_response(
        request, {"code": "too_large", "message": _("The request body is too large.")}, status=413
    )


@api.exception_handler(TooManyFilesSent)
def on_too_many_files(request, exc):
    return api.create_response(
        request,
        {"code": "too_many_files", "message": _("Too many files in one request."), "field": "files"},
        status=413,
    )


def _mount() -> None:
    from kefu.bot.api import router as bot_router
    from kefu.channels.api_public import router as service_router
    from kefu.customers.api import router as customers_router
    from kefu.knowledge.api import router as knowledge_router
    from kefu.loops.api import router as loops_router
    from kefu.sla.api import router as sla_router
    from kefu.tickets.api import router as tickets_router
    from kefu.voc.api import router as voc_router

    api.add_router("/tickets", tickets_router, tags=["tickets"])
    api.add_router("/tickets", sla_router, tags=["sla"])  # /tickets/{id}/sla: no path of tickets' own
    api.add_router("/customers", customers_router, tags=["customers"])
    api.add_router("/kb", knowledge_router, tags=["knowledge"])
    api.add_router("/service", service_router, tags=["service (public)"])
    api.add_router("/bot", bot_router, tags=["bot"])
    api.add_router("/voc", voc_router, tags=["voice of customer"])
    api.add_router("/loops", loops_router, tags=["closed loop"])


_mount()
