"""Kernel background jobs."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core import clock, db
from kefu.core.models import WorkerHeartbeat


@db_periodic_task(crontab(minute="*"))
def record_worker_heartbeat_task() -> None:
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": clock.now()})


@db_periodic_task(crontab(hour="3", minute="17"))
def analyze_database_task() -> None:
    db.analyze()
