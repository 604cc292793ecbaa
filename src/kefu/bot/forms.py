"""Forms of the bot console. They parse the shape of input; the services validate and decide (their
ValidationFailed errors are put back on the field they name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.bot.selectors import team_choices
from kefu.core.errors import DomainError


class _BotForm(forms.Form):
    field_map: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput | forms.MultipleHiddenInput):
                continue
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_domain_error(self, exc: DomainError) -> None:
        name = self.field_map.get(exc.field or "", exc.field or "")
        self.add_error(name if name in self.fields else None, exc.message)

    def invalid_class(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class BotSettingsForm(_BotForm):
    threshold = forms.FloatField(
        label=_("Confidence threshold"),
        min_value=0,
        max_value=1,
        help_text=_(
            "0–1. The bot answers when its confidence is at least this; below it, it hands the question "
            "to a person with a ticket. Higher: fewer wrong answers, more tickets."
        ),
    )
    low_confidence_margin = forms.FloatField(
        label=_("Low-confidence band"),
        min_value=0,
        max_value=1,
        help_text=_(
            "Answers less than this above the threshold are answered and also put on the tuning list."
        ),
    )
    handoff_team = forms.ChoiceField(
        label=_("Team for hand-offs"),
        required=False,
        help_text=_("Tickets the bot creates go to this team's queue (empty: no team)."),
    )
    field_map = {"handoff_team_id": "handoff_team"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handoff_team"].choices = [("", _("— none —"))] + [  # type: ignore[attr-defined]
            (str(pk), name) for pk, name in team_choices()
        ]
        for name in ("threshold", "low_confidence_margin"):
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "threshold": d["threshold"],
            "low_confidence_margin": d["low_confidence_margin"],
            "handoff_team_id": int(d["handoff_team"]) if d["handoff_team"] else None,
        }


class _TurnsField(forms.CharField):
    """Turn ids as a comma-separated list (one hidden field per group)."""

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = super().to_python(value)
        try:
            ids = [int(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise forms.ValidationError(_("Invalid questions.")) from None
        if not ids:
            raise forms.ValidationError(_("Choose the questions to resolve."))
        return ids


class TuningVariantForm(_BotForm):
    turns = _TurnsField(widget=forms.HiddenInput, max_length=10_000)
    article = forms.IntegerField(label=_("Article"), required=False, min_value=1, max_value=2**63 - 1)
    other_article = forms.IntegerField(
        label=_("or article number"), required=False, min_value=1, max_value=2**63 - 1
    )
    texts = forms.MultipleChoiceField(label=_("Questions to add"), required=False)
    field_map = {"article_id": "article", "turn_ids": "turns"}

    def __init__(self, *args: Any, questions: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if questions is None:  # a post: every submitted text is a choice; the service checks them
            questions = list(self.data.getlist("texts")) if hasattr(self.data, "getlist") else []
        self.fields["texts"].choices = [(q, q) for q in questions]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("other_article") and not data.get("article"):
            self.add_error("article", _("Choose the article these questions belong to."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "turn_ids": d["turns"],
            "article_id": d.get("other_article") or d["article"],
            "texts": d["texts"] or None,
        }


class TuningTurnsForm(_BotForm):
    turns = _TurnsField(widget=forms.HiddenInput, max_length=10_000)
    field_map = {"turn_ids": "turns"}
