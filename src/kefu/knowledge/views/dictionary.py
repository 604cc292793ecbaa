"""The search dictionary pages: words jieba keeps whole, and synonym groups. Editors and admins."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core.errors import DomainError
from kefu.knowledge import selectors, services
from kefu.knowledge.forms import DictionaryWordForm, SynonymForm
from kefu.knowledge.models import SynonymGroup
from kefu.knowledge.views.common import editor_page, error_status, kb_context

WORD_LIMIT = 1000


@editor_page
@require_http_methods(["GET", "POST"])
def dictionary(request: HttpRequest) -> HttpResponse:
    status = 200
    form = DictionaryWordForm()
    if request.method == "POST":
        form = DictionaryWordForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                row = services.add_dictionary_word(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                status = error_status(exc)
                form.add_domain_error(exc)
            else:
                messages.success(request, _("“%(word)s” is in the dictionary.") % {"word": row.word})
                return redirect("knowledge:dictionary")
        form.invalid_class()
    q = (request.GET.get("q") or "").strip()[:50]
    words = list(selectors.list_dictionary_words(q=q)[:WORD_LIMIT])
    ctx = kb_context(request, "dictionary", form=form, words=words, q=q, truncated=len(words) >= WORD_LIMIT)
    return render(request, "knowledge/dictionary.html", ctx, status=status)


@editor_page
@require_POST
def dictionary_remove(request: HttpRequest, pk: int) -> HttpResponse:
    word = selectors.list_dictionary_words().filter(pk=pk).first()
    services.remove_dictionary_word(actor=request.user, word_id=pk)
    messages.success(
        request, _("“%(word)s” removed from the dictionary.") % {"word": word.word if word else pk}
    )
    return redirect("knowledge:dictionary")


def _synonyms_page(
    request: HttpRequest, form: SynonymForm, group: SynonymGroup | None, status: int = 200
) -> HttpResponse:
    ctx = kb_context(
        request, "synonyms", form=form, group=group, groups=list(selectors.list_synonym_groups())
    )
    return render(request, "knowledge/synonyms.html", ctx, status=status)


def _save_synonyms(request: HttpRequest, group: SynonymGroup | None) -> HttpResponse:
    if request.method != "POST":
        initial = {"terms": ", ".join(group.term_list)} if group else None
        return _synonyms_page(request, SynonymForm(initial=initial), group)
    form = SynonymForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            saved = services.save_synonym_group(
                actor=request.user, group_id=group.pk if group else None, terms=form.cleaned_data["terms"]
            )
        except DomainError as exc:
            status = error_status(exc)
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Synonyms saved: %(terms)s") % {"terms": " = ".join(saved.term_list)})
            return redirect("knowledge:synonyms")
    form.invalid_class()
    return _synonyms_page(request, form, group, status)


@editor_page
@require_http_methods(["GET", "POST"])
def synonyms(request: HttpRequest) -> HttpResponse:
    return _save_synonyms(request, None)


@editor_page
@require_http_methods(["GET", "POST"])
def synonym_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_synonyms(request, selectors.get_synonym_group(pk))


@editor_page
@require_POST
def synonym_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = selectors.get_synonym_group(pk)
    services.delete_synonym_group(actor=request.user, group_id=group.pk)
    messages.success(request, _("Synonyms deleted: %(terms)s") % {"terms": " = ".join(group.term_list)})
    return redirect("knowledge:synonyms")


urlpatterns: list = [
    path("dictionary/", dictionary, name="dictionary"),
    path("dictionary/<int:pk>/remove/", dictionary_remove, name="dictionary_remove"),
    path("synonyms/", synonyms, name="synonyms"),
    path("synonyms/<int:pk>/", synonym_edit, name="synonym_edit"),
    path("synonyms/<int:pk>/delete/", synonym_delete, name="synonym_delete"),
]
