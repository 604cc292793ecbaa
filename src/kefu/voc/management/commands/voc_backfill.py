"""`kefu voc_backfill [--days N] [--limit N]`: feedback items for existing tickets and bot sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.core import clock


class Command(BaseCommand):
    help = "Create voice-of-customer feedback items for existing tickets and bot conversations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="only those created in the last N days")
        parser.add_argument("--limit", type=int, default=None, help="at most the newest N tickets")

    def handle(self, *args: Any, days: int | None, limit: int | None, **options: Any) -> None:
        from kefu.voc.services.backfill import backfill_feedback

        since = clock.now() - timedelta(days=days) if days else None
        made = backfill_feedback(since=since, limit=limit)
        self.stdout.write(
            f"{made['items']} feedback items: {made['tickets']} tickets opened, {made['solved']} solved, "
            f"{made['bot']} bot conversations"
        )
