"""A small fixed-window rate limiter over Django's cache (shared by the web workers of a machine with
the file cache, by every machine with Redis).

Keys are HMACs of the scope and the caller's key under the site's secret: a cache never holds a phone
number or an IP address in clear, and its keys cannot be reversed by trying every phone number."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kefu.core import clock
from kefu.core.errors import RateLimited


def _cache_key(scope: str, key: str, window_seconds: int, window: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{scope}\0{key}".encode(), hashlib.sha256).hexdigest()
    return f"kefu:rl:{scope}:{window_seconds}:{window}:{digest[:40]}"


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    if seconds < 2 * 3600:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(seconds / 3600)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> None:
    """Count one request of `key` in `scope`; raise RateLimited (429) when this window already had
    `limit` of them. The error's `retry_after` is the number of seconds until the window ends.

    Counting is exact with Redis and the in-memory cache; the file cache may miss a count when two
    workers hit the same key in the same instant, which a limit meant against abuse can afford."""
    if limit <= 0:
        raise RateLimited(
            _("This service is not accepting requests right now."), code="rate_limited", retry_after=0
        )
    now = clock.now().timestamp()
    window = int(now // window_seconds)
    retry_after = max(1, math.ceil((window + 1) * window_seconds - now))
    ck = _cache_key(scope, key, window_seconds, window)
    cache.add(ck, 0, timeout=window_seconds + 60)
    try:
        count = cache.incr(ck)
    except ValueError:  # expired between add and incr
        cache.set(ck, 1, timeout=window_seconds + 60)
        count = 1
    if count > limit:
        raise RateLimited(
            _("Too many requests. Please try again in %(wait)s.") % {"wait": _wait_text(retry_after)},
            retry_after=retry_after,
        )


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or — behind KEFU_TRUSTED_PROXY_HOPS reverse proxies that
    append to X-Forwarded-For — the address the outermost trusted proxy saw."""
    value = request.META.get("REMOTE_ADDR") or ""
    hops = getattr(settings, "KEFU_TRUSTED_PROXY_HOPS", 0)
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            value = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
