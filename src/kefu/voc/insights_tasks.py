"""Insights background job: recompute every hour (idempotent; a run is never joined by another)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.voc.services.insights import compute_insights


@db_periodic_task(crontab(minute="7"))
@lock_task("voc-insights")
def compute_insights_task() -> int:
    """Hourly, at :07: recompute insights for the current week and the trailing eight."""
    return compute_insights()
