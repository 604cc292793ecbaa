"""Background jobs of voice of customer."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=2, retry_delay=30)
def run_review_import_task(import_id: int) -> None:
    """Import a confirmed review file. Idempotent and resumable: a finished import is left as it is, an
    interrupted one continues after its last committed batch (so a retry never imports a row twice)."""
    from kefu.voc.services.reviews import run_import

    run_import(import_id)


# periodic jobs of other voc modules: djhuey imports only each app's tasks.py
from kefu.voc.insights_tasks import compute_insights_task  # noqa: E402, F401  (hourly insights)
