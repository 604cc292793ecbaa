"""Forms of the knowledge-base editor pages. They parse input into service arguments; the rules live
in kefu.knowledge.services, whose errors land on the named field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import DomainError
from kefu.knowledge.choices import ArticleStatus, Audience, TermKind
from kefu.knowledge.models import Article, StandardReply
from kefu.knowledge.selectors import category_choices, product_choices, reply_team_choices
from kefu.knowledge.services import MAX_VARIANT_LENGTH, MAX_VARIANTS, allowed_statuses


class KbForm(forms.Form):
    """Bootstrap classes on every widget; service errors land on the named field."""

    field_map: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_domain_error(self, exc: DomainError) -> None:
        name = self.field_map.get(exc.field or "", exc.field or "")
        self.add_error(name if name in self.fields else None, exc.message)

    def invalid_class(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def _optional_int(value: str) -> int | None:
    return int(value) if value else None


class ArticleFilterForm(forms.Form):
    """The article list's filters (GET)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ArticleStatus.choices]
    )
    audience = forms.ChoiceField(
        label=_("Audience"), required=False, choices=[("", _("Any audience")), *Audience.choices]
    )
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    product = forms.TypedChoiceField(label=_("Product"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, editor: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Any category")), *category_choices()]
        self.fields["product"].choices = [("", _("Any product")), *product_choices()]
        if not editor:  # other staff only see published articles
            del self.fields["status"]
        for name, field in self.fields.items():
            css = "form-control" if name == "q" else "form-select"
            field.widget.attrs["class"] = css

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data.get("status") or None,
            "audience": data.get("audience") or None,
            "category_id": data.get("category"),
            "product_id": data.get("product"),
        }


class ArticleForm(KbForm):
    field_map = {"category_id": "category", "product_ids": "products"}

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Body (Markdown)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "font-monospace"}),
        help_text=_(
            "Markdown: # heading, **bold**, - list, 1. numbered list, [link](https://…), | tables |. "
            "Images: upload them below and paste the line shown. HTML is not rendered."
        ),
    )
    variants = forms.CharField(
        label=_("Question variants (相似问法)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    products = forms.TypedMultipleChoiceField(
        label=_("Products"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices, initial=Audience.INTERNAL)
    status = forms.ChoiceField(label=_("Status"), choices=ArticleStatus.choices, initial=ArticleStatus.DRAFT)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="zh-hans")

    def __init__(self, *args: Any, article: Article | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variants"].help_text = _(
            "Other ways customers ask the same thing, one per line (at most %(n)d of %(len)d characters)."
        ) % {"n": MAX_VARIANTS, "len": MAX_VARIANT_LENGTH}
        self.fields["category"].choices = [("", _("No category")), *category_choices()]
        self.fields["products"].choices = product_choices()
        if article is None:
            allowed = [ArticleStatus.DRAFT.value, ArticleStatus.PUBLISHED.value]
        else:
            allowed = [article.status, *allowed_statuses(article.status)]
        self.fields["status"].choices = [(s, label) for s, label in ArticleStatus.choices if s in allowed]

    @staticmethod
    def initial_for(article: Article) -> dict[str, Any]:
        return {
            "title": article.title,
            "body": article.body,
            "variants": "\n".join(v.text for v in article.variants.all()),
            "category": article.category_id,
            "products": [p.pk for p in article.products.all()],
            "audience": article.audience,
            "status": article.status,
            "language": article.language,
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "variants": data["variants"].splitlines(),
            "category_id": data["category"],
            "product_ids": list(data["products"]),
            "audience": data["audience"],
            "status": data["status"],
            "language": data["language"],
        }


class AttachmentForm(KbForm):
    file = forms.FileField(
        label=_("Image or PDF"),
        help_text=_("JPEG, PNG, GIF, WebP or PDF, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,.pdf"}),
    )


class ReplyForm(KbForm):
    field_map = {"team_id": "team", "category_id": "category"}

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), strip=False, widget=forms.Textarea(attrs={"rows": 8}))
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    is_active = forms.BooleanField(
        label=_("Active (offered on the ticket page)"), required=False, initial=True
    )

    def __init__(self, *args: Any, actor: Any = None, shared_allowed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = reply_team_choices(actor)
        if shared_allowed:
            self.fields["team"].choices = [("", _("Shared by every team")), *teams]
        else:
            self.fields["team"].choices = teams
            self.fields["team"].required = True
        self.fields["category"].choices = [("", _("No category")), *category_choices()]

    @staticmethod
    def initial_for(reply: StandardReply) -> dict[str, Any]:
        return {
            "title": reply.title,
            "body": reply.body,
            "team": reply.team_id,
            "category": reply.category_id,
            "is_active": reply.is_active,
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "team_id": data["team"],
            "category_id": data["category"],
            "is_active": bool(data["is_active"]),
        }


class DictionaryWordForm(KbForm):
    word = forms.CharField(label=_("Word"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=TermKind.choices, initial=TermKind.PRODUCT)


class SynonymForm(KbForm):
    terms = forms.CharField(
        label=_("Words that mean the same"),
        max_length=300,
        help_text=_("Separated by commas, e.g. 制氧机, 氧气机, 吸氧机. The first is the main term."),
    )
