"""Per-request audit context: source (web, api, worker, cli) and request id."""

from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager

_source: contextvars.ContextVar[str] = contextvars.ContextVar("audit_source", default="system")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("audit_request_id", default="")


def current() -> tuple[str, str]:
    return _source.get(), _request_id.get()


@contextmanager
def audit_context(source: str, request_id: str | None = None):
    t1 = _source.set(source)
    t2 = _request_id.set(request_id or uuid.uuid4().hex)
    try:
        yield
    finally:
        _source.reset(t1)
        _request_id.reset(t2)


class AuditContextMiddleware:
    """Tags every request's audit events with a source and the X-Request-ID (or a new one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = "api" if request.path.startswith("/api/") else "web"
        rid = (request.headers.get("X-Request-ID") or "")[:64] or uuid.uuid4().hex
        with audit_context(source, rid):
            response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response
