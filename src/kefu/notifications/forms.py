"""Forms only parse the shape of input; the services validate and decide (their ValidationFailed
errors are put back on the field they name)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import DomainError


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("The address kefu POSTs events to: http:// or https://."),
    )
    patterns = forms.CharField(
        label=_("Event patterns"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: * for every event, ticket.* for all ticket events, or an exact type."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def add_domain_error(self, exc: DomainError) -> None:
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.message)

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "url": d["url"], "patterns": d["patterns"], "is_active": d["is_active"]}


class NotificationFilterForm(forms.Form):
    unread = forms.BooleanField(required=False)
    before = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
