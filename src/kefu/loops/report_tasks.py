"""The weekly VoC report job: every Monday 08:00 Beijing time, generate last week's report and email it.

Huey evaluates crontabs in UTC (the consumer's default, `utc=True`), and Asia/Shanghai is UTC+8 with no
daylight saving, so Monday 00:00 UTC is Monday 08:00 in Beijing. Huey's day_of_week counts from Sunday
= 0, so Monday is 1."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from kefu.loops.services.reports import generate_weekly_report, send_weekly_report


@db_task(retries=3, retry_delay=300)
def send_weekly_report_task(report_id: int) -> bool:
    """Email one report (once; a mail server error retries later)."""
    return send_weekly_report(report_id=report_id)


def generate_and_send_weekly_report() -> int:
    """Generate the previous week's report and email it unless that week's mail has gone already."""
    report = generate_weekly_report()
    if report.emailed_at is None:
        send_weekly_report(report_id=report.pk)
    return report.pk


@db_periodic_task(crontab(minute="0", hour="0", day_of_week="1"))
@lock_task("loops-weekly-report")
def weekly_report_task() -> int:
    """Monday 00:00 UTC = 08:00 Asia/Shanghai."""
    return generate_and_send_weekly_report()
