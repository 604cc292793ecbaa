"""Django admin for the knowledge base's configuration: categories, the search dictionary and
synonyms (saved through the audited services, so the search index follows). Articles and standard
replies are written in the console (/kb/); here they are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kefu.core.errors import DomainError
from kefu.knowledge import services
from kefu.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleVote,
    DictionaryWord,
    StandardReply,
    SynonymGroup,
)
from kefu.knowledge.services.dictionary import _clean_word, check_synonym_clash


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "position")
    list_editable = ("position",)
    search_fields = ("name",)


class DictionaryWordForm(forms.ModelForm):
    class Meta:
        model = DictionaryWord
        fields = ("word", "kind")

    def clean_word(self):
        try:
            return _clean_word(self.cleaned_data.get("word"), "word")
        except DomainError as exc:
            raise ValidationError(exc.message) from exc


@admin.register(DictionaryWord)
class DictionaryWordAdmin(admin.ModelAdmin):
    form = DictionaryWordForm
    list_display = ("word", "kind", "updated_at")
    list_filter = ("kind",)
    search_fields = ("word",)

    def save_model(self, request, obj, form, change):
        if change and "word" in form.changed_data:
            services.remove_dictionary_word(actor=request.user, word_id=obj.pk)
        row = services.add_dictionary_word(actor=request.user, word=obj.word, kind=obj.kind)
        obj.pk = row.pk

    def delete_model(self, request, obj):
        services.remove_dictionary_word(actor=request.user, word_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.remove_dictionary_word(actor=request.user, word_id=obj.pk)


class SynonymGroupForm(forms.ModelForm):
    class Meta:
        model = SynonymGroup
        fields = ("terms",)

    def clean_terms(self):
        try:
            terms = services.parse_terms(self.cleaned_data.get("terms") or "")
            check_synonym_clash(terms, exclude_id=self.instance.pk)
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        if len(terms) < 2:
            raise ValidationError(_("Give at least two words that mean the same."))
        return ",".join(terms)


@admin.register(SynonymGroup)
class SynonymGroupAdmin(admin.ModelAdmin):
    form = SynonymGroupForm
    list_display = ("terms", "updated_at")
    search_fields = ("terms",)

    def save_model(self, request, obj, form, change):
        group = services.save_synonym_group(
            actor=request.user, group_id=obj.pk if change else None, terms=obj.terms
        )
        obj.pk = group.pk

    def delete_model(self, request, obj):
        services.delete_synonym_group(actor=request.user, group_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_synonym_group(actor=request.user, group_id=obj.pk)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("title", "status", "audience", "language", "version", "updated_at")
    list_filter = ("status", "audience", "language", "category")
    search_fields = ("title",)


@admin.register(StandardReply)
class StandardReplyAdmin(ReadOnlyAdmin):
    list_display = ("title", "team", "is_active", "usage_count", "updated_at")
    list_filter = ("is_active", "team")
    search_fields = ("title", "body")


@admin.register(ArticleVote)
class ArticleVoteAdmin(ReadOnlyAdmin):
    list_display = ("article", "helpful", "source", "created_at")
    list_filter = ("helpful", "source")
