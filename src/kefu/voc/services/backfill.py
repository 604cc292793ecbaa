"""Feedback items for tickets and bot conversations that existed before voice of customer was
installed, or whose events were missed (`kefu voc_backfill`). Idempotent: what already has an item
(by source key) is skipped."""

from __future__ import annotations

from datetime import datetime

from kefu.tickets.choices import Status
from kefu.tickets.models import Ticket
from kefu.voc.models import FeedbackItem

BATCH = 500


def _missing(keys: dict[str, int]) -> list[int]:
    have = set(FeedbackItem.objects.filter(source_key__in=list(keys)).values_list("source_key", flat=True))
    return [pk for key, pk in keys.items() if key not in have]


def backfill_feedback(*, since: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Items for the newest tickets (opened, and solved when they are solved or closed) and bot
    sessions created since `since`, at most `limit` tickets. Returns the counts made."""
    from kefu.bot.models import BotSession
    from kefu.voc import handlers

    made = {"tickets": 0, "solved": 0, "bot": 0}
    before = FeedbackItem.objects.count()
    tickets = Ticket.objects.order_by("-id")
    sessions = BotSession.objects.order_by("-id")
    if since is not None:
        tickets = tickets.filter(created_at__gte=since)
        sessions = sessions.filter(created_at__gte=since)
    ids = list(tickets.values_list("id", "status")[:limit] if limit else tickets.values_list("id", "status"))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for pk in _missing({f"ticket:{pk}:created": pk for pk, _s in chunk}):
            handlers.record_ticket_created(pk)
            made["tickets"] += 1
        done = {pk for pk, status in chunk if status in (Status.SOLVED, Status.CLOSED)}
        for pk in _missing({f"ticket:{pk}:solved": pk for pk in done}):
            handlers.record_ticket_solved(pk)
            made["solved"] += 1
    session_ids = list(sessions.values_list("id", flat=True))
    for pk in _missing({f"bot:{pk}": pk for pk in session_ids}):
        handlers.record_bot_session(pk)
        made["bot"] += 1
    made["items"] = FeedbackItem.objects.count() - before
    return made
