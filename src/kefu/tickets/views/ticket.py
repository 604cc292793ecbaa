"""Console: the ticket page — header, timeline, composer, inline field edits, transfer, merge and
the customer 360 panel.

Thin views: parse with forms → call services/selectors → render partials. An htmx POST answers with
the form that was posted (it swaps itself) plus, out of band, what the change affects (header,
timeline, dependent forms). Input errors and DomainErrors come back as the same form with the error
inline and a 4xx status (ticket.js lets those forms swap 4xx); PermissionDenied and NotFound become a
403/404 with a toast (kefu.core.htmx). Without htmx the endpoints redirect back to the page.
"""

from __future__ import annotations

from functools import cached_property
from itertools import groupby
from typing import Any, cast

from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from kefu.accounts.models import User
from kefu.core import htmx
from kefu.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from kefu.core.permissions import authorize, has_permission
from kefu.tickets import selectors, services, workflow
from kefu.tickets.attachments import accept_files
from kefu.tickets.choices import FieldType, MessageKind, Priority, Status, TicketType
from kefu.tickets.forms_ticket import (
    ComposerForm,
    CustomFieldsForm,
    MergeForm,
    ObjectValueForm,
    StatusForm,
    TagsForm,
    TransferForm,
    first_error,
    priority_form,
    type_form,
)

PARTIALS = "tickets/partials/"
TEMPLATES = {
    "header": "ticket_header.html",
    "timeline": "ticket_timeline.html",
    "composer": "ticket_composer.html",
    "status": "ticket_status.html",
    "field": "ticket_field.html",
    "fields": "ticket_fields.html",
    "custom": "ticket_custom_fields.html",
    "transfer": "ticket_transfer.html",
    "merge": "ticket_merge.html",
    "customer": "ticket_customer.html",
}
STATUS_BADGE: dict[str, str] = {
    Status.NEW: "text-bg-info",
    Status.OPEN: "text-bg-primary",
    Status.PENDING: "text-bg-warning",
    Status.ON_HOLD: "text-bg-secondary",
    Status.SOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-dark",
}
PRIORITY_BADGE: dict[str, str] = {Priority.HIGH: "text-bg-warning", Priority.URGENT: "text-bg-danger"}
FIELDS = ("priority", "type", "assignee", "team", "category", "tags")
ACTIONS = ("reply", "note", "update", "transition", "transfer")


def _reraise_unless_inline(exc: DomainError) -> None:
    """Who-may-see and who-may-do errors go to the toast handler; the rest are shown in the form."""
    if isinstance(exc, PermissionDenied | NotFound):
        raise exc


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if htmx.is_htmx(request) else redirect(url)


class TicketPage:
    """The page's pieces for one ticket, each a template context built on demand (queries bounded)."""

    def __init__(self, request: HttpRequest, pk: int) -> None:
        self.request = request
        self.user = cast(User, request.user)  # htmx_view lets signed-in users only
        self.ticket = selectors.get_ticket_page(actor=self.user, ticket_id=pk)

    @property
    def url(self) -> str:
        return reverse("ticket_detail", args=[self.ticket.pk])

    def after_write(self, message: str) -> HttpResponse | None:
        """Re-read the ticket after a change; if the actor no longer sees it (handed to another
        team), send them to their inbox with the message instead."""
        try:
            self.ticket = selectors.get_ticket_page(actor=self.user, ticket_id=self.ticket.pk)
        except NotFound:
            flash.success(self.request, message)
            return _redirect(self.request, reverse("home"))
        self.__dict__.pop("assignees", None)
        return None

    @cached_property
    def can(self) -> dict[str, bool]:
        return {a: has_permission(self.user, f"ticket.{a}") for a in ACTIONS}

    @cached_property
    def assignees(self) -> list:
        return list(selectors.list_assignable_users(ticket=self.ticket, actor=self.user))

    @cached_property
    def teams(self) -> list:
        return list(selectors.list_teams())

    @cached_property
    def departments(self) -> list:
        return list(selectors.list_departments())

    @cached_property
    def categories(self) -> list:
        return list(selectors.list_categories())

    @cached_property
    def definitions(self) -> list:
        return list(selectors.list_custom_field_definitions())

    # --- contexts of the partials -------------------------------------------------------------

    def common(self) -> dict[str, Any]:
        t = self.ticket
        return {
            "ticket": t,
            "can": self.can,
            "status_class": STATUS_BADGE.get(t.status, "text-bg-secondary"),
            "priority_class": PRIORITY_BADGE.get(t.priority, "text-bg-light border"),
        }

    def header(self) -> dict[str, Any]:
        return {}

    def timeline(self) -> dict[str, Any]:
        return {"entries": selectors.list_ticket_timeline(actor=self.user, ticket_id=self.ticket.pk)}

    def composer(self, *, kind: str | None = None, body: str = "", error: str | None = None) -> dict:
        kinds = [k for k in (MessageKind.REPLY, MessageKind.NOTE) if self.can[k]]
        if kind not in kinds:
            kind = kinds[0] if kinds else None
        return {
            "composer": {
                "kinds": kinds,
                "kind": kind,
                "body": body,
                "error": error,
                "closed": self.ticket.status == Status.CLOSED,
                "max_files": settings.KEFU_MAX_ATTACHMENTS,
                "max_mb": settings.KEFU_MAX_ATTACHMENT_BYTES // (1024 * 1024),
            }
        }

    def status(self, *, error: str | None = None, selected: str = "", comment: str = "") -> dict:
        allowed = [(s, Status(s).label) for s in workflow.allowed_transitions(self.ticket.status)]
        return {"status_form": {"allowed": allowed, "error": error, "selected": selected, "comment": comment}}

    def field(self, name: str, *, error: str | None = None, value: str | None = None) -> dict:
        t = self.ticket
        f: dict[str, Any] = {
            "name": name,
            "url": reverse("ticket_field", args=[t.pk, name]),
            "error": error,
            "widget": "select",
            "blank": None,
            "help": None,
        }
        if name == "priority":
            f.update(label=_("Priority"), groups=[("", Priority.choices)], value=t.priority)
        elif name == "type":
            f.update(label=_("Type"), groups=[("", TicketType.choices)], value=t.type)
        elif name == "assignee":
            me = _("%(name)s (me)")
            options = [
                (str(u.pk), me % {"name": u} if u.pk == self.user.pk else str(u)) for u in self.assignees
            ]
            f.update(label=_("Assignee"), groups=[("", options)], blank=_("Unassigned"))
            f["value"] = str(t.assignee_id or "")
        elif name == "team":
            groups = [
                (dept, [(str(team.pk), team.name) for team in teams])
                for dept, teams in groupby(self.teams, key=lambda team: team.department.name)
            ]
            f.update(label=_("Team"), groups=groups, blank=_("No team"), value=str(t.team_id or ""))
        elif name == "category":
            options = [
                (str(c.pk), f"{c.parent.name} / {c.name}" if c.parent else c.name) for c in self.categories
            ]
            f.update(label=_("Category"), groups=[("", options)], blank=_("No category"))
            f["value"] = str(t.category_id or "")
        elif name == "tags":
            f.update(label=_("Tags"), widget="text", help=_("Separate tags with commas."))
            f["value"] = ", ".join(tag.name for tag in t.tags.all())
        if value is not None:
            f["value"] = value
        return {"f": f}

    def fields(self) -> dict[str, Any]:
        return {**self.status(), "fields": [self.field(n)["f"] for n in FIELDS], **self.custom()}

    def custom(
        self, *, form: CustomFieldsForm | None = None, error: str | None = None, field: str = ""
    ) -> dict:
        values = self.ticket.custom_fields or {}
        rows = []
        for d in self.definitions:
            name = f"cf_{d.key}"
            if form is not None:
                current = str(form.data.get(name, ""))
            elif d.field_type == FieldType.BOOLEAN and d.key in values:
                current = "true" if values[d.key] else "false"
            else:
                current = "" if values.get(d.key) is None else str(values[d.key])
            options: list[tuple[str, str]] = []
            if d.field_type == FieldType.BOOLEAN:
                options = [("", "—"), ("true", _("Yes")), ("false", _("No"))]
            elif d.field_type == FieldType.CHOICE:
                options = [("", "—"), *((str(c), str(c)) for c in d.choices or [])]
            row_errors = list(form.errors.get(name, [])) if form is not None else []
            if field == f"custom_fields.{d.key}" and error:
                row_errors.append(error)
            rows.append(
                {
                    "name": name,
                    "id": f"kf-cf-{d.key}",
                    "label": d.label,
                    "type": d.field_type,
                    "required": d.required,
                    "value": current,
                    "options": options,
                    "error": " ".join(map(str, row_errors)),
                }
            )
        return {"custom": {"rows": rows, "error": error}}

    def transfer(self, *, form: TransferForm | None = None, error: str | None = None) -> dict:
        keys = ("department", "team", "note", "reply_by")
        values = {k: str(form.data.get(k, "")) for k in keys} if form is not None else dict.fromkeys(keys, "")
        return {
            "transfer": {
                "departments": self.departments,
                "teams": self.teams,
                "values": values,
                "error": error,
            }
        }

    def merge(self, *, target: str = "", comment: str = "", error: str | None = None) -> dict:
        return {"merge": {"target": target, "comment": comment, "error": error}}

    def customer(self) -> dict[str, Any]:
        return {"panel": selectors.get_customer_panel(actor=self.user, ticket=self.ticket)}

    # --- rendering ------------------------------------------------------------------------------

    def part(self, name: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        kind, _sep, field = name.partition(":")
        builder = getattr(self, kind)
        return builder(field, **(options or {})) if field else builder(**(options or {}))

    def context(self, overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        ov = overrides or {}
        ctx = self.common()
        for name in ("header", "timeline", "composer", "status", "custom", "transfer", "merge", "customer"):
            ctx.update(self.part(name, ov.get(name)))
        ctx["fields"] = [self.field(n, **ov.get(f"field:{n}", {}))["f"] for n in FIELDS]
        return ctx

    def render_part(self, name: str, options: dict[str, Any] | None = None, *, oob: bool = False) -> str:
        template = PARTIALS + TEMPLATES[name.partition(":")[0]]
        ctx = {**self.common(), **self.part(name, options), "oob": oob}
        return render_to_string(template, ctx, request=self.request)

    def respond(
        self,
        main: str,
        *,
        oob: tuple[str, ...] | list[str] = (),
        status: int = 200,
        toast: str | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
    ) -> HttpResponse:
        overrides = overrides or {}
        if not htmx.is_htmx(self.request):
            if status < 400:
                if toast:
                    flash.success(self.request, toast)
                return redirect(self.url)
            return render(self.request, "tickets/ticket_detail.html", self.context(overrides), status=status)
        html = self.render_part(main, overrides.get(main)) + "".join(
            self.render_part(name, overrides.get(name), oob=True) for name in oob
        )
        response = HttpResponse(html, status=status)
        if toast:
            htmx.toast(response, toast, "success")
        return response


# --- views --------------------------------------------------------------------------------------


@require_GET
@htmx.htmx_view
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page = TicketPage(request, pk)
    return render(request, "tickets/ticket_detail.html", page.context())


@require_POST
@htmx.htmx_view
def ticket_message(request: HttpRequest, pk: int) -> HttpResponse:
    """A public reply or an internal note, with attachments (multipart)."""
    page = TicketPage(request, pk)
    form = ComposerForm(request.POST)
    kind = request.POST.get("kind", MessageKind.REPLY)
    body = request.POST.get("body", "")

    def failed(message: str, status: int) -> HttpResponse:
        return page.respond(
            "composer", status=status, overrides={"composer": {"kind": kind, "body": body, "error": message}}
        )

    if not form.is_valid():
        return failed(first_error(form), 422)
    authorize(page.user, f"ticket.{form.cleaned_data['kind']}")  # a 403 comes before any file check
    uploads = request.FILES.getlist("files")
    if not form.cleaned_data["body"].strip() and not uploads:
        return failed(_("Write a message or attach a file."), 422)
    try:
        files = accept_files(uploads)
        services.add_message(
            actor=page.user, ticket_id=pk, kind=kind, body=form.cleaned_data["body"], files=files
        )
    except DomainError as exc:
        _reraise_unless_inline(exc)
        message = exc.message
        if exc.field == "files":
            message = _("The file was not accepted: %(reason)s") % {"reason": exc.message}
        return failed(message, exc.status)
    done = _("Reply sent.") if kind == MessageKind.REPLY else _("Internal note added.")
    return page.after_write(done) or page.respond(
        "composer", oob=("header", "timeline", "status"), toast=done, overrides={"composer": {"kind": kind}}
    )


@require_POST
@htmx.htmx_view
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the status to one the workflow allows (+ an optional comment, saved as a note)."""
    page = TicketPage(request, pk)
    form = StatusForm(request.POST)
    comment = request.POST.get("comment", "")
    if not form.is_valid():
        return page.respond(
            "status", status=422, overrides={"status": {"error": first_error(form), "comment": comment}}
        )
    to = form.cleaned_data["to"]
    try:
        services.transition_ticket(actor=page.user, ticket_id=pk, to=to, comment=form.cleaned_data["comment"])
    except DomainError as exc:
        _reraise_unless_inline(exc)
        message = exc.message
        if isinstance(exc, InvalidTransition):
            message = _("The status cannot change from “%(current)s” to “%(target)s”.") % {
                "current": page.ticket.get_status_display(),
                "target": Status(to).label,
            }
        return page.respond(
            "status",
            status=exc.status,
            overrides={"status": {"error": message, "comment": comment, "selected": to}},
        )
    done = _("Status changed to “%(status)s”.") % {"status": Status(to).label}
    oob = ["header", "timeline"] + (["composer"] if to == Status.CLOSED else [])  # closed: no more writing
    return page.after_write(done) or page.respond("status", oob=oob, toast=done)


def _field_form(page: TicketPage, name: str, data: Any) -> tuple[Any, Any]:
    """The form parsing one inline field, and how its clean value becomes update_ticket changes."""
    if name == "priority":
        return priority_form(data), lambda v: {"priority": v}
    if name == "type":
        return type_form(data), lambda v: {"type": v}
    if name == "tags":
        return TagsForm(data), lambda v: {"tags": v}
    queryset, key, label = {
        "assignee": (
            selectors.list_assignable_users(ticket=page.ticket, actor=page.user),
            "assignee_id",
            _("Assignee"),
        ),
        "team": (selectors.list_teams(), "team_id", _("Team")),
        "category": (selectors.list_categories(), "category_id", _("Category")),
    }[name]
    return ObjectValueForm(data, label=label, queryset=queryset), lambda v: {key: v.pk if v else None}


@require_POST
@htmx.htmx_view
def ticket_field(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Change one field (priority, type, assignee, team, category, tags)."""
    if name not in FIELDS:
        raise Http404(name)
    page = TicketPage(request, pk)
    form, changes = _field_form(page, name, request.POST)
    part = f"field:{name}"
    submitted = request.POST.get("value", "")
    if not form.is_valid():
        return page.respond(
            part, status=422, overrides={part: {"error": first_error(form), "value": submitted}}
        )
    try:
        services.update_ticket(actor=page.user, ticket_id=pk, changes=changes(form.cleaned_data["value"]))
    except DomainError as exc:
        _reraise_unless_inline(exc)
        return page.respond(
            part, status=exc.status, overrides={part: {"error": exc.message, "value": submitted}}
        )
    done = _("%(field)s saved.") % {"field": form.fields["value"].label}
    oob = ["header", "timeline"] + (["field:assignee"] if name == "team" else [])
    return page.after_write(done) or page.respond(part, oob=oob, toast=done)


@require_POST
@htmx.htmx_view
def ticket_custom_fields(request: HttpRequest, pk: int) -> HttpResponse:
    page = TicketPage(request, pk)
    form = CustomFieldsForm(request.POST, definitions=page.definitions)
    if not form.is_valid():
        error = _("Please correct the fields marked below.")
        return page.respond("custom", status=422, overrides={"custom": {"form": form, "error": error}})
    try:
        services.update_ticket(actor=page.user, ticket_id=pk, changes={"custom_fields": form.values()})
    except DomainError as exc:
        _reraise_unless_inline(exc)
        options = {"form": form, "error": exc.message, "field": exc.field or ""}
        return page.respond("custom", status=exc.status, overrides={"custom": options})
    done = _("Custom fields saved.")
    return page.after_write(done) or page.respond("custom", oob=("header", "timeline"), toast=done)


@require_POST
@htmx.htmx_view
def ticket_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the ticket to another department (optionally one of its teams) with a reply-by time."""
    page = TicketPage(request, pk)
    form = TransferForm(request.POST, departments=selectors.list_departments(), teams=selectors.list_teams())
    if not form.is_valid():
        return page.respond(
            "transfer", status=422, overrides={"transfer": {"form": form, "error": first_error(form)}}
        )
    data = form.cleaned_data
    try:
        services.transfer_ticket(
            actor=page.user,
            ticket_id=pk,
            department_id=data["department"].pk,
            team_id=data["team"].pk if data["team"] else None,
            note=data["note"],
            reply_by=data["reply_by"],
        )
    except DomainError as exc:
        _reraise_unless_inline(exc)
        return page.respond(
            "transfer", status=exc.status, overrides={"transfer": {"form": form, "error": exc.message}}
        )
    done = _("Transferred to %(department)s.") % {"department": data["department"].name}
    return page.after_write(done) or page.respond(
        "transfer", oob=("header", "timeline", "fields"), toast=done
    )


@require_POST
@htmx.htmx_view
def ticket_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this ticket into another (by number or id), then go to that ticket."""
    page = TicketPage(request, pk)
    form = MergeForm(request.POST)
    target_ref, comment = request.POST.get("target", ""), request.POST.get("comment", "")

    def failed(message: str, status: int = 422) -> HttpResponse:
        options = {"target": target_ref, "comment": comment, "error": message}
        return page.respond("merge", status=status, overrides={"merge": options})

    if not form.is_valid():
        return failed(first_error(form))
    try:
        target = selectors.find_ticket_by_reference(actor=page.user, reference=form.cleaned_data["target"])
    except NotFound:
        return failed(
            _("There is no ticket “%(ref)s” that you can see.") % {"ref": form.cleaned_data["target"]}
        )
    if target.pk == page.ticket.pk:
        return failed(_("A ticket cannot be merged into itself."))
    try:
        services.merge_tickets(
            actor=page.user, source_id=pk, target_id=target.pk, comment=form.cleaned_data["comment"]
        )
    except DomainError as exc:
        _reraise_unless_inline(exc)
        return failed(exc.message, exc.status)
    flash.success(
        request,
        _("%(source)s was merged into %(target)s.") % {"source": page.ticket.number, "target": target.number},
    )
    return _redirect(request, reverse("ticket_detail", args=[target.pk]))


urlpatterns = [
    path("tickets/<int:pk>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/messages/", ticket_message, name="ticket_message"),
    path("tickets/<int:pk>/status/", ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/fields/custom/", ticket_custom_fields, name="ticket_custom_fields"),
    path("tickets/<int:pk>/fields/<slug:name>/", ticket_field, name="ticket_field"),
    path("tickets/<int:pk>/transfer/", ticket_transfer, name="ticket_transfer"),
    path("tickets/<int:pk>/merge/", ticket_merge, name="ticket_merge"),
]
