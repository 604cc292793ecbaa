"""Signed JSON POSTs for webhooks (urllib: no extra dependency). Redirects are not followed."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

TIMEOUT_SECONDS = 10
SNIPPET_CHARS = 500
USER_AGENT = "kefu-webhooks/1"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`X-Kefu-Signature`: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, *, tolerance: int | None = 300) -> bool:
    """What a receiver does (used by tests and documented for integrators)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if tolerance is not None and abs(time.time() - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    error: str = ""
    snippet: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is reported as it is, never re-sent elsewhere


_opener = urllib.request.build_opener(_NoRedirects)


def _snippet(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:SNIPPET_CHARS]


def post_json(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS
) -> HttpResult:
    """POST `body`; never raises for network or HTTP errors (they come back in the result)."""
    if not url.lower().startswith(("http://", "https://")):
        return HttpResult(None, "unsupported URL scheme")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return HttpResult(response.status, "", _snippet(response.read(SNIPPET_CHARS * 4)))
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read(SNIPPET_CHARS * 4)
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            exc.close()
        return HttpResult(exc.code, f"HTTP {exc.code} {exc.reason}"[:SNIPPET_CHARS], _snippet(raw))
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
        return HttpResult(None, text[:SNIPPET_CHARS])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return HttpResult(None, f"{type(exc).__name__}: {exc}"[:SNIPPET_CHARS])
