"""Console: the closed loop's settings (/loops/settings/, administrators)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kefu.core.errors import ValidationFailed
from kefu.core.htmx import permission_page
from kefu.loops.models import LoopSettings
from kefu.loops.services.loop_settings import update_loop_settings
from kefu.sla.models import Calendar

settings_page = permission_page(
    "loops.settings", gettext_lazy("Only administrators may change these settings.")
)
NUMBER = {"class": "form-control", "min": 0, "max": 180}


class LoopSettingsForm(forms.Form):
    commit_within_days = forms.IntegerField(
        label=gettext_lazy("Accept and commit a date within (business days)"),
        widget=forms.NumberInput(NUMBER),
    )
    calendar_id = forms.TypedChoiceField(
        label=gettext_lazy("Business calendar"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    escalate_owner_after = forms.IntegerField(
        label=gettext_lazy("Remind the owner after (business days)"), widget=forms.NumberInput(NUMBER)
    )
    escalate_head_after = forms.IntegerField(
        label=gettext_lazy("Department head after (business days)"), widget=forms.NumberInput(NUMBER)
    )
    escalate_executive_after = forms.IntegerField(
        label=gettext_lazy("Executives after (business days)"), widget=forms.NumberInput(NUMBER)
    )
    verification_days = forms.IntegerField(
        label=gettext_lazy("Verification window (days)"), widget=forms.NumberInput(NUMBER)
    )
    report_recipients = forms.CharField(
        label=gettext_lazy("Weekly report recipients (one address per line)"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        calendars = [("", _("First business calendar (or calendar days)"))]
        calendars += [(str(c.pk), c.name) for c in Calendar.objects.order_by("name")]
        self.fields["calendar_id"].choices = calendars


@settings_page
@require_http_methods(["GET", "POST"])
def loop_settings(request: HttpRequest) -> HttpResponse:
    current = LoopSettings.load()
    status = 200
    if request.method == "POST":
        form = LoopSettingsForm(request.POST)
        if form.is_valid():
            try:
                update_loop_settings(actor=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("loops:settings")
        status = 422
    else:
        form = LoopSettingsForm(
            initial={
                "commit_within_days": current.commit_within_days,
                "calendar_id": str(current.calendar_id or ""),
                "escalate_owner_after": current.escalate_owner_after,
                "escalate_head_after": current.escalate_head_after,
                "escalate_executive_after": current.escalate_executive_after,
                "verification_days": current.verification_days,
                "report_recipients": current.report_recipients,
            }
        )
    return render(request, "loops/settings.html", {"form": form}, status=status)


urlpatterns = [path("settings/", loop_settings, name="settings")]
