"""Forms of the customer portal: they check the shape of input; the services decide the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class EmailLinkForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)


class TrackingForm(forms.Form):
    number = forms.CharField(label=_("Tracking number"), max_length=40)
    phone = forms.CharField(label=_("Phone number"), max_length=40)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your message"), required=False, max_length=10_000, widget=forms.Textarea)


def first_error(form: forms.Form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return ""
