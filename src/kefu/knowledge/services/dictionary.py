"""The search dictionary: words jieba keeps whole (product names, model numbers, slang) and synonym
groups (制氧机 = 氧气机). Editors and admins change them; every change is audited, and the search
index picks the change up from the events."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.knowledge import events
from kefu.knowledge.choices import TermKind
from kefu.knowledge.models import DictionaryWord, SynonymGroup
from kefu.knowledge.services._common import check_choice, is_int

MAX_WORD = 50
MAX_TERMS = 300  # the stored, comma-separated text
_SEPARATORS = re.compile(r"[,，、;；=＝\n\r]+")


def _clean_word(value: Any, field: str) -> str:
    word = clean_text(value, field, MAX_WORD, required=True, single_line=True)
    if any(ch.isspace() for ch in word):
        raise ValidationFailed(
            _("“%(word)s”: a dictionary word has no spaces.") % {"word": word}, field=field
        )
    return word


@transaction.atomic
def add_dictionary_word(*, actor: Any, word: Any, kind: Any = TermKind.OTHER) -> DictionaryWord:
    """Add a word (or change the kind of one already there)."""
    authorize(actor, "kb.edit")
    word = _clean_word(word, "word")
    kind = check_choice(kind, TermKind, "kind")
    row = DictionaryWord.objects.select_for_update().filter(word=word).first()
    if row is not None:
        if row.kind != kind:
            row.kind = kind
            row.save(update_fields=["kind", "updated_at"])
            record_event(
                actor=actor, verb=events.WORD_ADDED.verb, subject=row, data=_word_data(row, changed=True)
            )
        return row
    row = DictionaryWord.objects.create(word=word, kind=kind)
    record_event(actor=actor, verb=events.WORD_ADDED.verb, subject=row, data=_word_data(row))
    return row


def _word_data(row: DictionaryWord, **extra: Any) -> dict[str, Any]:
    return {"word_id": row.pk, "word": row.word, "kind": row.kind, **extra}


@transaction.atomic
def remove_dictionary_word(*, actor: Any, word_id: int) -> None:
    authorize(actor, "kb.edit")
    row = DictionaryWord.objects.select_for_update().filter(pk=word_id).first() if is_int(word_id) else None
    if row is None:
        raise NotFound(_("Dictionary word %(id)s not found.") % {"id": word_id}, field="word_id")
    record_event(actor=actor, verb=events.WORD_REMOVED.verb, subject=row, data=_word_data(row))
    row.delete()


def parse_terms(value: Any) -> list[str]:
    """ "制氧机, 氧气机，吸氧机" (commas, 、, =, new lines) or a list → distinct terms, first kept first."""
    if isinstance(value, str):
        parts = _SEPARATORS.split(value)
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise ValidationFailed(_("terms must be a list of words."), field="terms")
    terms: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ValidationFailed(_("terms must be a list of words."), field="terms")
        if not part.strip():
            continue
        term = _clean_word(part, "terms")
        if term.casefold() not in {t.casefold() for t in terms}:
            terms.append(term)
    return terms


def check_synonym_clash(terms: list[str], *, exclude_id: int | None = None) -> None:
    """A word may belong to one synonym group only."""
    wanted = {t.casefold() for t in terms}
    others = SynonymGroup.objects.all() if exclude_id is None else SynonymGroup.objects.exclude(pk=exclude_id)
    for other in others:
        clash = [t for t in other.term_list if t.casefold() in wanted]
        if clash:
            raise ValidationFailed(
                _("“%(word)s” is already in the synonyms %(group)s.")
                % {"word": clash[0], "group": ", ".join(other.term_list)},
                field="terms",
            )


@transaction.atomic
def save_synonym_group(*, actor: Any, group_id: int | None = None, terms: Any) -> SynonymGroup:
    """Create or change a group of words that mean the same; the first is the one indexed. A word
    may belong to one group only."""
    authorize(actor, "kb.edit")
    cleaned = parse_terms(terms)
    if len(cleaned) < 2:
        raise ValidationFailed(_("Give at least two words that mean the same."), field="terms")
    text = ",".join(cleaned)
    if len(text) > MAX_TERMS:
        raise ValidationFailed(
            _("The words are longer than %(max)d characters together.") % {"max": MAX_TERMS}, field="terms"
        )
    group = None
    if group_id is not None:
        group = (
            SynonymGroup.objects.select_for_update().filter(pk=group_id).first() if is_int(group_id) else None
        )
        if group is None:
            raise NotFound(_("Synonym group %(id)s not found.") % {"id": group_id}, field="group_id")
    check_synonym_clash(cleaned, exclude_id=group.pk if group else None)
    if group is None:
        group = SynonymGroup.objects.create(terms=text)
    elif group.terms == text:
        return group
    else:
        group.terms = text
        group.save(update_fields=["terms", "updated_at"])
    record_event(
        actor=actor,
        verb=events.SYNONYMS_SAVED.verb,
        subject=group,
        data={"group_id": group.pk, "terms": group.terms},
    )
    return group


@transaction.atomic
def delete_synonym_group(*, actor: Any, group_id: int) -> None:
    authorize(actor, "kb.edit")
    group = SynonymGroup.objects.select_for_update().filter(pk=group_id).first() if is_int(group_id) else None
    if group is None:
        raise NotFound(_("Synonym group %(id)s not found.") % {"id": group_id}, field="group_id")
    record_event(
        actor=actor,
        verb=events.SYNONYMS_DELETED.verb,
        subject=group,
        data={"group_id": group.pk, "terms": group.terms},
    )
    group.delete()
