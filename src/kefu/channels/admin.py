"""Django admin for channels: read-only views of mailboxes (configured on the Channels pages, where
changes are validated and audited; passwords never shown) and of the mail log."""

from django.contrib import admin

from kefu.channels.models import EmailMessage, Mailbox


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Mailbox)
class MailboxAdmin(ReadOnlyAdmin):
    """Edit mailboxes at /channels/: the passwords are left out here entirely."""

    list_display = ("name", "address", "team", "is_active", "imap_host", "smtp_host", "last_polled_at")
    list_filter = ("is_active",)
    search_fields = ("name", "address")
    exclude = ("imap_password", "smtp_password")


@admin.register(EmailMessage)
class EmailMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "direction", "status", "from_address", "subject", "mailbox", "ticket")
    list_filter = ("direction", "status")
    search_fields = ("message_id", "from_address", "subject")
    show_full_result_count = False
    list_select_related = ("mailbox", "ticket")
    raw_id_fields = ("mailbox", "ticket", "ticket_message")
    exclude = ("raw", "html")  # the raw source is downloaded through the permission-checked page
