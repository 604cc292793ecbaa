"""Forms of the channel pages: they parse input into service arguments; the rules live in
kefu.channels.services.mailboxes, whose errors land on the named field. Password inputs never
render a value (not even after a validation error)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team
from kefu.channels.choices import Direction, MailStatus, Security
from kefu.channels.models import Mailbox
from kefu.sla.forms import ConfigForm

PASSWORD_FIELDS = ("imap_password", "smtp_password")


def _team_choices() -> list[tuple[str, Any]]:
    teams = Team.objects.select_related("department").order_by("department__name", "name")
    return [("", _("— no team —"))] + [(str(t.pk), f"{t.department.name} / {t.name}") for t in teams]


def _port() -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": _("default")}),
    )


def _password() -> forms.CharField:
    return forms.CharField(
        required=False,
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class MailboxForm(ConfigForm):
    field_map = {"team_id": "team"}
    GENERAL = ("name", "address", "team", "is_active", "send_acknowledgement", "max_message_mb")
    IMAP = ("imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder")
    SMTP = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password")
    SECTIONS = {
        "imap": IMAP[:5] + ("clear_imap_password",) + IMAP[5:],
        "smtp": SMTP + ("clear_smtp_password",),
    }

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Shown to agents, e.g. After-sales."))
    address = forms.CharField(
        label=_("Address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("The support address customers write to; replies are sent from it."),
    )
    team = forms.ChoiceField(
        label=_("Team"), required=False, help_text=_("New tickets from this address go to this team.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    send_acknowledgement = forms.BooleanField(
        label=_("Acknowledge new tickets"),
        required=False,
        initial=True,
        help_text=_("Reply once with the ticket number; never to auto-replies, bounces or bulk mail."),
    )
    max_message_mb = forms.IntegerField(label=_("Size limit (MB)"), initial=20)

    imap_host = forms.CharField(
        label=_("IMAP host"),
        max_length=200,
        required=False,
        help_text=_("Leave empty when mail arrives only through kefu smtpd."),
    )
    imap_port = _port()
    imap_security = forms.ChoiceField(
        label=_("IMAP security"), choices=Security.choices, initial=Security.SSL
    )
    imap_username = forms.CharField(
        label=_("IMAP user"), max_length=200, required=False, help_text=_("Empty: the address above.")
    )
    imap_password = _password()
    clear_imap_password = forms.BooleanField(label=_("Remove the stored IMAP password"), required=False)
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=200, required=False, initial="INBOX")

    smtp_host = forms.CharField(
        label=_("SMTP host"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to send through the site mailer (KEFU_EMAIL_URL)."),
    )
    smtp_port = _port()
    smtp_security = forms.ChoiceField(
        label=_("SMTP security"), choices=Security.choices, initial=Security.STARTTLS
    )
    smtp_username = forms.CharField(label=_("SMTP user"), max_length=200, required=False)
    smtp_password = _password()
    clear_smtp_password = forms.BooleanField(label=_("Remove the stored SMTP password"), required=False)

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        if mailbox is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(mailbox)
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = _team_choices()  # type: ignore[attr-defined]
        self.fields["imap_port"].label = _("IMAP port")
        self.fields["smtp_port"].label = _("SMTP port")
        self.fields["imap_password"].label = _("IMAP password")
        self.fields["smtp_password"].label = _("SMTP password")
        self.password_set = {f: bool(mailbox and getattr(mailbox, f)) for f in PASSWORD_FIELDS}
        for f, is_set in self.password_set.items():
            # the hint says whether one is stored; the value itself never reaches the page
            self.fields[f].help_text = _("Set — leave empty to keep it.") if is_set else _("Not set.")

    @staticmethod
    def initial_for(mailbox: Mailbox) -> dict[str, Any]:
        """The form's values for a stored mailbox — without its passwords."""
        initial = {
            f: getattr(mailbox, f)
            for f in MailboxForm.GENERAL + MailboxForm.IMAP + MailboxForm.SMTP
            if f not in PASSWORD_FIELDS and f != "team"
        }
        initial["team"] = str(mailbox.team_id or "")
        return initial

    def section(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        """The section's fields; "remove the stored password" only when one is stored."""
        return [self[n] for n in names if not n.startswith("clear_") or self.password_set[n[6:]]]

    @property
    def general_fields(self) -> list[forms.BoundField]:
        return self.section(self.GENERAL)

    @property
    def imap_fields(self) -> list[forms.BoundField]:
        return self.section(self.SECTIONS["imap"])

    @property
    def smtp_fields(self) -> list[forms.BoundField]:
        return self.section(self.SECTIONS["smtp"])

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {n: d[n] for n in self.GENERAL + self.IMAP + self.SMTP if n != "team"}
        data["team_id"] = int(d["team"]) if d.get("team") else None
        data["clear_imap_password"] = d["clear_imap_password"]
        data["clear_smtp_password"] = d["clear_smtp_password"]
        return data


class ChannelSettingsForm(ConfigForm):
    repair_team = forms.ChoiceField(
        label=_("Team for repair requests"),
        required=False,
        help_text=_("Repair requests from the web form and the mini-program become tickets of this team."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["repair_team"].choices = _team_choices()  # type: ignore[attr-defined]

    def team_id(self) -> int | None:
        value = self.cleaned_data.get("repair_team")
        return int(value) if value else None


class MailLogFilterForm(forms.Form):
    """The mail log's filters; bad values are ignored (the page shows everything)."""

    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("All"))] + list(Direction.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + list(MailStatus.choices)
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("direction", "status"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"direction": None, "status": None, "before_id": None}
        d = self.cleaned_data
        return {"direction": d["direction"] or None, "status": d["status"] or None, "before_id": d["before"]}
