"""The public repair form: it parses input; kefu.channels.services.repair checks and records it, and
its errors land on the field they name."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from kefu.channels.choices import PurchaseChannel
from kefu.channels.services.repair import LABELS, MAX_PHOTOS, MAX_VIDEOS
from kefu.core.errors import DomainError

_interpolate = lazy(lambda text, n: str(text) % {"n": n}, str)  # translated when shown, not at import

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
VIDEO_ACCEPT = "video/mp4,video/quicktime,video/webm"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; the view reads them (types and sizes are the service's)."""

    def __init__(self, *args, accept: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs["widget"] = MultipleFileInput(attrs={"accept": accept, "class": "form-control"})
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        return [f for f in (data if isinstance(data, list | tuple) else [data]) if f]


def _text(label, max_length: int, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.TextInput(attrs={"class": "form-control", "maxlength": max_length, **attrs}),
    )


class RepairForm(forms.Form):
    phone = _text(LABELS["phone"], 32, inputmode="tel", autocomplete="tel")
    name = _text(LABELS["name"], 100, autocomplete="name")
    product_model = _text(LABELS["product_model"], 100)
    purchase_channel = forms.ChoiceField(
        label=LABELS["purchase_channel"],
        choices=[("", _("Choose…")), *PurchaseChannel.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    address = _text(LABELS["address"], 300, autocomplete="street-address")
    description = forms.CharField(
        label=LABELS["description"],
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 5, "maxlength": 5000}),
    )
    photos = MultipleFileField(
        label=_interpolate(_("Photos (up to %(n)d)"), MAX_PHOTOS),
        accept=PHOTO_ACCEPT,
        help_text=_("JPEG, PNG, WebP or GIF. Location data is removed from photos."),
    )
    videos = MultipleFileField(
        label=_interpolate(_("Videos (up to %(n)d)"), MAX_VIDEOS),
        accept=VIDEO_ACCEPT,
        help_text=_("MP4, MOV or WebM. A short video of the fault helps our engineers most."),
    )
    # one per form shown: a second submit of the same form returns the first request
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)

    def add_domain_error(self, exc: DomainError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)

    def mark_invalid(self) -> None:
        """Bootstrap's is-invalid on inputs with errors, aria-invalid for screen readers."""
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"{name}-error"
