"""Knowledge-base event types. Data always carries the object's id (`article_id`, `reply_id`, …):
the search index follows these events after commit (kefu.knowledge.handlers)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

ARTICLE_CREATED = register("article.created", _("Article {title} created"))
ARTICLE_UPDATED = register("article.updated", _("Article {title} changed (version {version})"))
ARTICLE_PUBLISHED = register("article.published", _("Article {title} published"))
ARTICLE_ARCHIVED = register("article.archived", _("Article {title} archived"))
ARTICLE_VARIANT_ADDED = register("article.variant_added", _("Question “{text}” added to article {title}"))
ARTICLE_ATTACHMENT_ADDED = register(
    "article.attachment_added", _("File {filename} attached to article {title}")
)
REPLY_CREATED = register("reply.created", _("Standard reply {title} created"))
REPLY_UPDATED = register("reply.updated", _("Standard reply {title} changed"))
REPLY_DELETED = register("reply.deleted", _("Standard reply {title} deleted"))
WORD_ADDED = register("kb.word_added", _("Dictionary word {word} added"))
WORD_REMOVED = register("kb.word_removed", _("Dictionary word {word} removed"))
SYNONYMS_SAVED = register("kb.synonyms_saved", _("Synonyms {terms} saved"))
SYNONYMS_DELETED = register("kb.synonyms_deleted", _("Synonyms {terms} deleted"))

ARTICLE_VERBS = (
    "article.created",
    "article.updated",
    "article.published",
    "article.archived",
    "article.variant_added",
)
REPLY_VERBS = ("reply.created", "reply.updated", "reply.deleted")
DICTIONARY_VERBS = ("kb.word_added", "kb.word_removed", "kb.synonyms_saved", "kb.synonyms_deleted")
