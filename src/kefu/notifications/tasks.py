"""Background jobs: ids in, one service call, idempotent."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.notifications import services


@db_task(retries=3, retry_delay=120)
def send_notification_email_task(notification_id: int) -> None:
    services.send_notification_email(notification_id=notification_id)


@db_task()
def dispatch_webhooks_task(event_id: int | None = None) -> None:
    """After an event commits: deliver it (and anything else due) now."""
    services.dispatch_webhooks(event_ids=[event_id] if event_id else [])


@db_periodic_task(crontab(minute="*"))
def dispatch_webhooks_periodic_task() -> None:
    """Every minute: late-committed events, retries that came due, deliveries a crash left behind."""
    services.dispatch_webhooks(rescan_window=True)


@db_periodic_task(crontab(hour="4", minute="23"))
def prune_webhook_deliveries_task() -> None:
    services.prune_webhook_deliveries()
