"""`kefu reindex_search [--kind article|reply|ticket]`: rebuild the search index (after changing the
dictionary or synonyms, after a restore, or to repair it)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from kefu.knowledge.choices import DocKind


class Command(BaseCommand):
    help = "Rebuild the knowledge/ticket search index (all kinds, or one with --kind)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=list(DocKind.values), help="only this kind of document")
        parser.add_argument("--batch", type=int, default=1000, help="documents per transaction")

    def handle(self, *args, **options):
        from kefu.core import db
        from kefu.knowledge.search import reindex

        last = [0.0]

        def progress(kind: str, done: int) -> None:
            if options["verbosity"] >= 1 and time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                self.stdout.write(f"  {kind}: {done:,} …")

        t0 = time.perf_counter()
        try:
            total = reindex(options["kind"], batch=max(1, options["batch"]), progress=progress)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        db.tidy_search_index()
        elapsed = time.perf_counter() - t0
        rate = total / elapsed if elapsed else 0.0
        self.stdout.write(f"indexed {total:,} documents in {elapsed:,.1f} s ({rate:,.0f}/s)")
