"""Console forms (parsing only: they build selector filters and service arguments, never write)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.tickets.choices import Channel, Priority, Status, TicketType
from kefu.tickets.selectors import INBOX_VIEWS, InboxOptions, TicketFilters

# --- inbox ----------------------------------------------------------------------------------------

INBOX_PAGE_SIZES = (25, 50, 100)
INBOX_SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("due", _("SLA due time (earliest first)")),
]
_ASSIGNEE = RegexValidator(r"^(me|none|[1-9][0-9]{0,18})$", _("Choose an assignee from the list."))
_SELECT = "form-select form-select-sm"
_INPUT = "form-control form-control-sm"


def _any(label: Any, choices: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class InboxFilterForm(forms.Form):
    """The inbox query string: view, filters, sort, page size and keyset cursor (`after`/`before`).

    Validation needs no database query; `options` (teams, users, products, shops) only fill the
    select widgets when the whole page is rendered."""

    view = forms.ChoiceField(required=False, choices=[(v, v) for v in INBOX_VIEWS], widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number or subject"), "data-kf-search": ""}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_any(_("Any status"), Status.choices)
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=_any(_("Any priority"), Priority.choices)
    )
    type = forms.ChoiceField(label=_("Type"), required=False, choices=_any(_("Any type"), TicketType.choices))
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_any(_("Any channel"), Channel.choices)
    )
    team = forms.IntegerField(label=_("Team"), required=False, min_value=1, widget=forms.Select)
    assignee = forms.CharField(
        label=_("Assignee"), required=False, validators=[_ASSIGNEE], widget=forms.Select
    )
    product = forms.IntegerField(label=_("Product"), required=False, min_value=1, widget=forms.Select)
    shop = forms.IntegerField(label=_("Shop"), required=False, min_value=1, widget=forms.Select)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    created_from = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    created_to = forms.DateField(
        label=_("Created to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=INBOX_SORT_CHOICES)
    limit = forms.TypedChoiceField(
        label=_("Per page"),
        required=False,
        coerce=int,
        empty_value=50,
        choices=[(str(n), str(n)) for n in INBOX_PAGE_SIZES],
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    # fields behind "More filters" (the <details> opens when one of them is set)
    MORE = ("channel", "team", "assignee", "product", "shop", "tag", "created_from", "created_to", "limit")
    # fields that make up a shareable inbox address (the cursor is added by pagination links)
    QUERY_KEYS = (
        "view", "q", "status", "priority", "type", "channel", "team", "assignee", "product", "shop",
        "tag", "created_from", "created_to", "sort", "limit",
    )  # fmt: skip

    # what an absent sort / page size means (links leave them out)
    DEFAULTS = {"sort": "newest", "limit": "50"}

    def __init__(
        self, data: Any = None, *, default_view: str = "mine", options: InboxOptions | None = None, **kwargs
    ):
        kwargs.setdefault("auto_id", "kf-f-%s")
        if data is not None and any(not data.get(k) for k in self.DEFAULTS):
            data = data.copy()
            for key, value in self.DEFAULTS.items():
                if not data.get(key):
                    data[key] = value
        super().__init__(data, **kwargs)
        self.default_view = default_view
        for name, f in self.fields.items():
            if isinstance(f.widget, forms.HiddenInput):
                continue
            css = _SELECT if isinstance(f.widget, forms.Select) else _INPUT
            f.widget.attrs["class"] = css
            if name not in ("q",):
                f.widget.attrs.setdefault("data-kf-autosubmit", "")
        if options is not None:
            self.fields["team"].widget.choices = _any(
                _("Any team"), [(str(t.pk), f"{t.department.name} · {t.name}") for t in options.teams]
            )
            self.fields["assignee"].widget.choices = _any(
                _("Anyone"),
                [("me", _("Me")), ("none", _("Unassigned"))] + [(str(u.pk), str(u)) for u in options.users],
            )
            self.fields["product"].widget.choices = _any(
                _("Any product"), [(str(p.pk), str(p)) for p in options.products]
            )
            self.fields["shop"].widget.choices = _any(
                _("Any shop"), [(str(s.pk), str(s)) for s in options.shops]
            )

    def clean_view(self) -> str:
        return self.cleaned_data.get("view") or self.default_view

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "newest"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("after") and data.get("before"):
            raise forms.ValidationError(_("Use either a next-page or a previous-page cursor, not both."))
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("The end date is before the start date."))
        return data

    @property
    def more_open(self) -> bool:
        """Whether one of the "More filters" is in use (so the disclosure renders open)."""
        return any(self.data.get(name) not in (None, "", self.DEFAULTS.get(name)) for name in self.MORE)

    def to_filters(self) -> TicketFilters:
        """The validated filters for the selectors; the created range is in the user's time zone,
        both days included."""
        d = self.cleaned_data
        tz = timezone.get_current_timezone()

        def start_of(day: Any) -> datetime | None:
            return datetime.combine(day, time.min, tzinfo=tz) if day else None

        return TicketFilters(
            status=[d["status"]] if d.get("status") else None,
            type=[d["type"]] if d.get("type") else None,
            priority=[d["priority"]] if d.get("priority") else None,
            channel=[d["channel"]] if d.get("channel") else None,
            team=d.get("team"),
            assignee=d.get("assignee") or None,
            product=d.get("product"),
            shop=d.get("shop"),
            tag=(d.get("tag") or "").strip() or None,
            created_after=start_of(d.get("created_from")),
            created_before=start_of(d["created_to"] + timedelta(days=1)) if d.get("created_to") else None,
            q=(d.get("q") or "").strip() or None,
        )


class _IdsField(forms.Field):
    """Repeated `ids=…` values (the checked rows) as a list of positive ints, order kept."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Ticket ids must be numbers."), code="invalid") from None
        if any(i < 1 for i in ids):
            raise forms.ValidationError(_("Ticket ids must be numbers."), code="invalid")
        return list(dict.fromkeys(ids))

    def validate(self, value: list[int]) -> None:
        if not value:
            raise forms.ValidationError(_("Select at least one ticket."), code="required")


BULK_ACTIONS = [
    ("assign", _("Assign")),
    ("status", _("Change status")),
    ("transfer", _("Transfer to a department")),
    ("tag", _("Add a tag")),
]


class InboxBulkForm(forms.Form):
    """A bulk action on the checked tickets. Which fields are needed depends on `action`; what the
    values may be (my teams' people, workflow) is checked by services.bulk."""

    ids = _IdsField(label=_("Tickets"))
    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)
    assignee = forms.CharField(label=_("Assign to"), required=False, validators=[_ASSIGNEE])
    status = forms.ChoiceField(label=_("New status"), required=False, choices=_any("", Status.choices))
    department = forms.IntegerField(label=_("Department"), required=False, min_value=1)
    team = forms.IntegerField(label=_("Team (optional)"), required=False, min_value=1)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    next = forms.CharField(required=False, max_length=2000)

    REQUIRED = {"assign": ("assignee",), "status": ("status",), "transfer": ("department",), "tag": ("tag",)}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in self.REQUIRED.get(data.get("action") or "", ()):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("This field is required for this action."))
        return data

    def assignee_id(self, actor: Any) -> int | None:
        value = self.cleaned_data["assignee"]
        if value == "me":
            return actor.pk
        if value == "none":
            return None
        return int(value)
