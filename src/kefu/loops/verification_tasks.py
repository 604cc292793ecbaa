"""Periodic jobs of the verification: implemented actions start their verification window, and
actions whose window has ended are decided (verified or not effective). Hourly; idempotent."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.loops.services import verification


@db_periodic_task(crontab(minute="17"))
@lock_task("loops-verification-start")
def start_verifications_task() -> None:
    """implemented → verifying for every implemented action with a target metric."""
    verification.start_due_verifications()


@db_periodic_task(crontab(minute="22"))
@lock_task("loops-verification-decide")
def verify_due_actions_task() -> None:
    """verifying → verified / not effective once the window has ended."""
    verification.verify_due_actions()
