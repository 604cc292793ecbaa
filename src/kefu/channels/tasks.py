"""Background jobs for channels: sending queued mail, retrying it, polling IMAP mailboxes."""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from kefu.channels.models import Mailbox
from kefu.channels.services import outbound


@db_task()
def send_email_task(email_id: int) -> None:
    outbound.send_email(email_id=email_id)


@db_periodic_task(crontab(minute="*"))
@lock_task("channels-send-retry")
def retry_outbound_email_task() -> None:
    """Every minute: queued mail whose next attempt is due (after an SMTP failure)."""
    for email_id in outbound.due_outbound_ids():
        outbound.send_email(email_id=email_id)


@db_task()
def poll_mailbox_task(mailbox_id: int) -> None:
    from kefu.channels.imap import poll_mailbox

    try:
        with HUEY.lock_task(f"channels-poll-{mailbox_id}"):  # one poll per mailbox at a time
            poll_mailbox(mailbox_id)
    except TaskLockedException:
        return


@db_periodic_task(crontab(minute="*"))
def poll_mailboxes_task() -> None:
    """Every minute: fetch new mail of every active mailbox with an IMAP server."""
    for mailbox_id in (
        Mailbox.objects.filter(is_active=True).exclude(imap_host="").values_list("id", flat=True)
    ):
        poll_mailbox_task(mailbox_id)


@db_periodic_task(crontab(hour="3", minute="41"))
def prune_pending_uploads_task() -> None:
    """Nightly: mini-program uploads that expired without being used in a repair request."""
    from kefu.channels.services.repair import prune_pending_uploads

    prune_pending_uploads()


@db_task()
def send_portal_link_task(link_id: int) -> None:
    from kefu.channels.services.portal import send_portal_link_mail

    send_portal_link_mail(link_id=link_id)
