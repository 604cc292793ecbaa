"""Every knowledge-base write: articles (versions, variants, status), their files, standard replies,
and the search dictionary (words, synonyms)."""

from kefu.knowledge.services.articles import (
    MAX_VARIANT_LENGTH,
    MAX_VARIANTS,
    TRANSITIONS,
    add_variant,
    allowed_statuses,
    clean_variants,
    save_article,
    set_article_status,
)
from kefu.knowledge.services.attachments import (
    attachment_markdown,
    attachment_url,
    upload_article_attachment,
)
from kefu.knowledge.services.dictionary import (
    add_dictionary_word,
    delete_synonym_group,
    parse_terms,
    remove_dictionary_word,
    save_synonym_group,
)
from kefu.knowledge.services.replies import delete_reply, save_reply

__all__ = [
    "MAX_VARIANTS",
    "MAX_VARIANT_LENGTH",
    "TRANSITIONS",
    "add_dictionary_word",
    "add_variant",
    "allowed_statuses",
    "attachment_markdown",
    "attachment_url",
    "clean_variants",
    "delete_reply",
    "delete_synonym_group",
    "parse_terms",
    "remove_dictionary_word",
    "save_article",
    "save_reply",
    "save_synonym_group",
    "set_article_status",
    "upload_article_attachment",
]
