"""Reads for the bot console: the tuning list (unresolved low-confidence and handed-off questions,
grouped by similarity and ordered by frequency) and the settings."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kefu.accounts.models import Team
from kefu.bot.models import BotSettings, BotTurn, Outcome
from kefu.core.permissions import authorize
from kefu.knowledge.choices import ArticleStatus
from kefu.knowledge.models import Article
from kefu.knowledge.retrieval import grams, normalize, question_vectors

GROUP_SIMILARITY = 0.5  # two questions at least this close are in the same group
COMPARED = 30  # each question is compared with the this many earlier ones sharing the most 2-/3-grams
MAX_TUNING_TURNS = 3_000  # the newest unresolved turns grouped


@dataclass
class TuningQuestion:
    text: str
    count: int


@dataclass
class TuningGroup:
    questions: list[TuningQuestion]  # distinct questions, most asked first
    count: int  # turns
    last_asked: datetime
    turn_ids: list[int]
    handed_off: int
    low_confidence: int
    article_id: int | None = None  # the bot's best guess
    article_title: str = ""
    suggestions: list[tuple[int, str]] = field(default_factory=list)  # filled by the page

    @property
    def question(self) -> str:
        return self.questions[0].text


@dataclass
class _Unique:
    text: str
    turns: list[BotTurn]

    @property
    def last(self) -> datetime:
        return max(t.created_at for t in self.turns)


def _open_turns(limit: int) -> list[BotTurn]:
    return list(
        BotTurn.objects.filter(resolved_at__isnull=True)
        .exclude(outcome=Outcome.ANSWERED)
        .order_by("-created_at", "-id")
        .only("id", "question", "article_id", "confidence", "outcome", "created_at")[:limit]
    )


def group_questions(turns: list[BotTurn], *, similarity: float = GROUP_SIMILARITY) -> list[TuningGroup]:
    """Single-linkage clustering: identical questions (ignoring case, spaces and punctuation) are one;
    two questions at least `similarity` close — cosine of character 1–3-gram TF-IDF vectors, IDF of the
    published titles and variants — are in the same group (each is compared with the COMPARED earlier
    ones sharing the most 2-/3-grams with it). A group shows its most asked question first; groups are
    ordered by their number of turns, then by the last time asked."""
    uniques: dict[str, _Unique] = {}
    for t in turns:
        key = normalize(t.question) or t.question
        u = uniques.get(key)
        if u is None:
            uniques[key] = _Unique(" ".join(t.question.split()), [t])
        else:
            u.turns.append(t)
    ordered = sorted(uniques.values(), key=lambda u: (-len(u.turns), -u.last.timestamp()))
    vectors = question_vectors([u.text for u in ordered])
    parent = list(range(len(ordered)))  # union-find over `ordered`

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_gram: dict[str, list[int]] = defaultdict(list)  # 2-/3-gram → the questions before that have it
    for i, u in enumerate(ordered):
        long_grams = [g for g in grams(u.text) if len(g) > 1]
        shared: Counter[int] = Counter()
        for g in long_grams:
            shared.update(by_gram.get(g, ()))
        for j, _n in shared.most_common(COMPARED):
            if root(i) != root(j) and vectors.similarity(i, j) >= similarity:
                parent[root(i)] = root(j) if root(j) < root(i) else root(i)
        for g in long_grams:
            by_gram[g].append(i)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(ordered)):
        members[root(i)].append(i)  # in `ordered` order: the most asked question first
    groups = [_group([ordered[i] for i in idx]) for idx in members.values()]
    groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp()))
    return groups


def _group(uniques: list[_Unique]) -> TuningGroup:
    turns = [t for u in uniques for t in u.turns]
    weight: dict[int, float] = defaultdict(float)
    for t in turns:
        if t.article_id:
            weight[t.article_id] += t.confidence or 0.01
    questions = sorted((TuningQuestion(u.text, len(u.turns)) for u in uniques), key=lambda q: -q.count)
    return TuningGroup(
        questions=questions,
        count=len(turns),
        last_asked=max(t.created_at for t in turns),
        turn_ids=sorted(t.pk for t in turns),
        handed_off=sum(1 for t in turns if t.outcome == Outcome.HANDED_OFF),
        low_confidence=sum(1 for t in turns if t.outcome == Outcome.LOW_CONFIDENCE),
        article_id=max(weight, key=weight.__getitem__) if weight else None,
    )


def list_tuning_groups(*, actor: Any, limit: int = 50) -> tuple[list[TuningGroup], int]:
    """The tuning list: (the `limit` largest groups, the number of groups)."""
    authorize(actor, "bot.tune")
    groups = group_questions(_open_turns(MAX_TUNING_TURNS))
    shown = groups[: max(1, limit)]
    titles = dict(
        Article.objects.filter(pk__in={g.article_id for g in shown if g.article_id}).values_list(
            "pk", "title"
        )
    )
    for g in shown:
        if g.article_id in titles:
            g.article_title = titles[g.article_id]
        else:
            g.article_id = None  # deleted since
    return shown, len(groups)


def count_open_turns() -> int:
    return BotTurn.objects.filter(resolved_at__isnull=True).exclude(outcome=Outcome.ANSWERED).count()


def get_bot_settings(*, actor: Any) -> BotSettings:
    authorize(actor, "bot.tune")
    return BotSettings.load()


def team_choices() -> list[tuple[int, str]]:
    return list(Team.objects.order_by("name", "id").values_list("pk", "name"))


def article_titles(ids: list[int]) -> dict[int, str]:
    return dict(Article.objects.filter(pk__in=ids).values_list("pk", "title"))


def is_public_article(article_id: int) -> bool:
    return Article.objects.filter(pk=article_id, status=ArticleStatus.PUBLISHED, audience="public").exists()
