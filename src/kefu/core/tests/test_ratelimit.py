"""The fixed-window rate limiter over Django's cache."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory

from kefu.core.errors import RateLimited
from kefu.core.ratelimit import client_ip, hit


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_tests_use_process_memory():
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def test_the_limit_is_allowed_then_refused_with_a_retry_after_until_the_window_ends():
    # given a window of one hour that started 15 minutes ago
    with time_machine.travel(datetime(2026, 3, 2, 8, 15, tzinfo=UTC), tick=False):
        # when the same key comes three times with a limit of three
        for _ in range(3):
            hit("test", "13800138000", limit=3, window_seconds=3600)
        # then the fourth is refused, saying when to come back
        with pytest.raises(RateLimited) as exc:
            hit("test", "13800138000", limit=3, window_seconds=3600)
    assert exc.value.status == 429
    assert exc.value.extra["retry_after"] == 45 * 60
    assert "45" in exc.value.message
    assert exc.value.as_dict()["retry_after"] == 45 * 60


def test_keys_and_scopes_are_counted_apart():
    # given one key at its limit
    hit("test", "a", limit=1, window_seconds=60)
    # then another key and another scope still pass
    hit("test", "b", limit=1, window_seconds=60)
    hit("other", "a", limit=1, window_seconds=60)
    with pytest.raises(RateLimited):
        hit("test", "a", limit=1, window_seconds=60)


def test_a_new_window_starts_a_new_count():
    start = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        hit("test", "a", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            hit("test", "a", limit=1, window_seconds=60)
        traveller.shift(timedelta(seconds=30))
        hit("test", "a", limit=1, window_seconds=60)


def test_cache_keys_hold_no_phone_number_or_ip_in_clear():
    # when a phone number and an IP are counted
    hit("repair-phone", "+8613800138000", limit=5, window_seconds=3600)
    hit("repair-ip", "203.0.113.7", limit=5, window_seconds=3600)
    # then no cache key shows them
    keys = " ".join(str(k) for k in cache._cache)  # LocMemCache's store
    assert keys
    assert "13800138000" not in keys and "203.0.113.7" not in keys


def test_a_limit_of_zero_refuses_everything():
    with pytest.raises(RateLimited):
        hit("test", "a", limit=0, window_seconds=60)


def test_client_ip_is_the_peer_unless_proxies_are_trusted(settings):
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    # given no trusted proxy: the forwarded header is not believed
    settings.KEFU_TRUSTED_PROXY_HOPS = 0
    assert client_ip(request) == "10.0.0.2"
    # given one proxy that appends the address it saw
    settings.KEFU_TRUSTED_PROXY_HOPS = 1
    assert client_ip(request) == "203.0.113.9"
    # a header that is not an address gives None, never an exception
    assert client_ip(rf.get("/", REMOTE_ADDR="not-an-ip", HTTP_X_FORWARDED_FOR="junk")) is None
