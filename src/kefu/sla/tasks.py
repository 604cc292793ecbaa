"""SLA background jobs."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.sla.services import scan_due_timers


@db_periodic_task(crontab(minute="*"))
@lock_task("sla-scan")  # a long scan (after a holiday) is not joined by the next minute's one
def scan_sla_timers_task() -> None:
    """Every minute: breaches and ladder steps that are due."""
    scan_due_timers()
