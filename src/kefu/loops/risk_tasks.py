"""Risk register background job: every morning, remind owners of risks whose review is due."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.loops.services.risks import notify_due_risk_reviews


@db_periodic_task(crontab(minute="30", hour="0"))  # the consumer runs in UTC: 08:30 Beijing
@lock_task("loops-risk-reviews")
def notify_due_risk_reviews_task() -> int:
    """Daily: one reminder per due review (idempotent: a due date is reminded once)."""
    return notify_due_risk_reviews()
