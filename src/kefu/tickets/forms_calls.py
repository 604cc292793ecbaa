"""Forms of the console's call and customer pages: parse input; the rules live in the services."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team
from kefu.core.errors import DomainError, ValidationFailed
from kefu.customers.models import Product, Shop
from kefu.customers.normalize import normalize_phone
from kefu.tickets.choices import Priority, TicketType

# service error field -> form field
FIELD_MAP = {
    "customer": "phone",
    "customer.phone": "phone",
    "customer.name": "customer_name",
    "name": "customer_name",
    "subject": "subject",
    "description": "description",
    "type": "type",
    "priority": "priority",
    "product": "product",
    "product_id": "product",
    "shop": "shop",
    "shop_id": "shop",
    "team_id": "team",
    "Idempotency-Key": "idempotency_key",
}


def check_phone(raw: str) -> str:
    """E.164, or a translated form error naming the field."""
    try:
        return normalize_phone(raw)
    except ValidationFailed as exc:
        raise forms.ValidationError(
            _("“%(value)s” is not a valid phone number. Check the digits, e.g. 138 0013 8000."),
            code="invalid_phone",
            params={"value": raw},
        ) from exc


class StyledForm(forms.Form):
    """Bootstrap classes on every widget; errors from services land on the named field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_domain_error(self, exc: DomainError) -> None:
        name = FIELD_MAP.get(exc.field or "", exc.field or "")
        self.add_error(name if name in self.fields else None, exc.message)

    def invalid_class(self) -> None:
        """Mark invalid widgets for Bootstrap (aria-invalid and aria-describedby come from Django)."""
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class CallForm(StyledForm):
    """One phone call → one ticket (channel = phone) for the caller, found or created by phone."""

    phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=40,
        help_text=_("Any format: 138 0013 8000, +86-13800138000, 0086…"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    customer_name = forms.CharField(label=_("Customer name"), max_length=100, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Call notes"), required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=50_000
    )
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.INQUIRY)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    product = forms.ChoiceField(label=_("Product (model number)"), required=False)
    shop = forms.TypedChoiceField(label=_("Shop"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        products = Product.objects.filter(is_active=True).order_by("model_number")
        self._choices("product").choices = [("", _("— none —"))] + [
            (p.model_number, f"{p.model_number} · {p.name}") for p in products.only("model_number", "name")
        ]
        shops = Shop.objects.filter(is_active=True).order_by("id").only("id", "name")
        self._choices("shop").choices = [("", _("— none —"))] + [(s.pk, s.name) for s in shops]
        teams = list(Team.objects.order_by("id").only("id", "name"))
        mine = list(actor.teams.order_by("id").values_list("id", flat=True)[:1])
        self._choices("team").choices = [("", _("— my team —"))] + [(t.pk, t.name) for t in teams]
        if not self.is_bound:
            self.initial.setdefault("team", mine[0] if mine else "")
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    def _choices(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data["phone"])

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        key = d.get("idempotency_key")
        return {
            "subject": d["subject"],
            "description": d["description"],
            "type": d["type"],
            "priority": d["priority"],
            "customer_name": d["customer_name"],
            "customer_identities": {"phone": d["phone"]},
            "product_model": d["product"] or None,
            "shop_id": d["shop"],
            "team_id": d["team"],
            "idempotency_key": f"call-{key}" if key else None,
        }


class MergeForm(forms.Form):
    target_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
