"""Closed-loop background jobs. Other parts of the loop keep their periodic jobs in their own modules;
they are imported here so the worker registers them."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.loops.services.escalation import scan_actions


@db_periodic_task(crontab(minute="*/5"))
@lock_task("loops-escalation-scan")
def scan_actions_task() -> None:
    """Every five minutes: actions not accepted in time or past their committed date climb the ladder."""
    scan_actions()


# the periodic jobs of the other parts of the loop (djhuey imports only each app's tasks.py)
from kefu.loops import report_tasks, risk_tasks, verification_tasks  # noqa: E402, F401
