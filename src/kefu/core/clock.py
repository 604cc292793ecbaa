"""The only time source in kefu: patchable in tests (time-machine), UTC everywhere."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_replay_at: ContextVar[datetime | None] = ContextVar("kefu_clock_replay", default=None)


def now() -> datetime:
    return _replay_at.get() or timezone.now()


@contextmanager
def replaying_at(at: datetime) -> Iterator[None]:
    """Run services as if it were `at` (the demo seed replays a past scenario this way)."""
    token = _replay_at.set(at)
    try:
        yield
    finally:
        _replay_at.reset(token)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> date:
    return now().astimezone(local_tz()).date()
