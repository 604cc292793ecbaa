"""Bot tuning: the questions the bot was unsure of, grouped by similarity and counted; an editor adds a
group as article variants (after which the bot answers them), writes an article, or dismisses it."""

from __future__ import annotations

import pytest

from kefu.audit.models import AuditEvent
from kefu.bot import selectors, services
from kefu.bot.models import BotTurn, Outcome
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.knowledge.models import ArticleVariant

pytestmark = pytest.mark.django_db

POINTS = [
    "会员积分可以兑换什么礼品",
    "会员积分能兑换哪些礼品？",
    "积分可以兑换什么礼品呀",
    "会员积分兑换礼品",
]
INVOICE = ["电子发票怎么开", "怎么开电子发票"]


def ask_all(questions):
    return [services.ask(question=q) for q in questions]


def test_similar_questions_are_grouped_and_counted_most_frequent_first(handbook, editor):
    # given customers asking about points four times (one of them twice) and about invoices twice
    ask_all([*POINTS, POINTS[0], *INVOICE])

    groups, total = selectors.list_tuning_groups(actor=editor)

    # then two groups, the larger first, each with its distinct questions and how often they were asked
    assert total == 2
    points, invoice = groups
    assert points.count == 5 and points.handed_off == 5
    assert points.question == POINTS[0]
    assert {(q.text, q.count) for q in points.questions} == {(POINTS[0], 2), *((q, 1) for q in POINTS[1:])}
    assert invoice.count == 2 and {q.text for q in invoice.questions} == set(INVOICE)
    assert points.last_asked <= invoice.last_asked
    assert len(points.turn_ids) == 5


def test_confident_answers_are_not_on_the_list(handbook, editor):
    services.ask(question="制氧机声音很大")
    assert selectors.list_tuning_groups(actor=editor) == ([], 0)


def test_adding_a_group_as_variants_makes_the_bot_answer_that_question(
    handbook, editor, django_capture_on_commit_callbacks
):
    # given a question the bot could not answer (the "done when")
    question = "机器半夜一直轰轰地响"
    first = services.ask(question=question)
    assert first.type == "handoff"
    [group], _total = selectors.list_tuning_groups(actor=editor)

    # when an editor adds it as a variant of the noise article
    with django_capture_on_commit_callbacks(execute=True):  # the search index follows after commit
        n = services.add_tuning_variants(
            actor=editor, turn_ids=group.turn_ids, article_id=handbook["noise"].pk
        )

    # then the question is a variant from bot tuning, the group is off the list, the change is audited
    assert n == 1
    v = ArticleVariant.objects.get(article=handbook["noise"], text=question)
    assert v.source == "bot_tuning" and v.created_by == editor
    turn = BotTurn.objects.get(pk=first.turn_id)
    assert turn.resolution == "variant_added" and turn.resolved_by == editor and turn.resolved_at
    assert selectors.list_tuning_groups(actor=editor) == ([], 0)
    event = AuditEvent.objects.get(verb="bot.tuning_resolved")
    assert event.data["article_id"] == handbook["noise"].pk and event.data["variants"] == [question]
    assert AuditEvent.objects.filter(verb="article.variant_added").exists()

    # and the bot answers that exact question next time
    again = services.ask(question=question)
    assert again.type == "answer" and again.article_id == handbook["noise"].pk
    assert BotTurn.objects.get(pk=again.turn_id).outcome == Outcome.ANSWERED


def test_only_chosen_questions_become_variants(handbook, editor):
    ask_all([POINTS[0], POINTS[2]])
    [group], _ = selectors.list_tuning_groups(actor=editor)
    services.add_tuning_variants(
        actor=editor, turn_ids=group.turn_ids, article_id=handbook["refund"].pk, texts=[POINTS[2]]
    )
    assert list(ArticleVariant.objects.filter(source="bot_tuning").values_list("text", flat=True)) == [
        POINTS[2]
    ]
    assert BotTurn.objects.filter(resolution="variant_added").count() == 2


def test_dismissing_and_writing_an_article_resolve_the_group(handbook, editor):
    ask_all([POINTS[0], INVOICE[0]])
    groups, _ = selectors.list_tuning_groups(actor=editor)
    assert (
        services.resolve_tuning_turns(actor=editor, turn_ids=groups[0].turn_ids, resolution="dismissed") == 1
    )
    assert (
        services.resolve_tuning_turns(actor=editor, turn_ids=groups[1].turn_ids, resolution="article_written")
        == 1
    )
    assert set(BotTurn.objects.values_list("resolution", flat=True)) == {"dismissed", "article_written"}
    # a group resolved already is not on the list any more
    with pytest.raises(NotFound):
        services.resolve_tuning_turns(actor=editor, turn_ids=groups[0].turn_ids, resolution="dismissed")


def test_tuning_needs_bot_tune_and_valid_input(handbook, editor, agent):
    ask_all([POINTS[0]])
    with pytest.raises(PermissionDenied):
        selectors.list_tuning_groups(actor=agent)
    turn_ids = list(BotTurn.objects.values_list("pk", flat=True))
    with pytest.raises(PermissionDenied):
        services.resolve_tuning_turns(actor=agent, turn_ids=turn_ids, resolution="dismissed")
    with pytest.raises(PermissionDenied):
        services.add_tuning_variants(actor=agent, turn_ids=turn_ids, article_id=handbook["refund"].pk)
    with pytest.raises(ValidationFailed) as exc:
        services.resolve_tuning_turns(actor=editor, turn_ids=turn_ids, resolution="ignored")
    assert exc.value.field == "resolution"
    with pytest.raises(ValidationFailed) as exc:
        services.add_tuning_variants(actor=editor, turn_ids=turn_ids, article_id=99999)
    assert exc.value.field == "article_id"
    with pytest.raises(ValidationFailed) as exc:
        services.add_tuning_variants(actor=editor, turn_ids=[], article_id=handbook["refund"].pk)
    assert exc.value.field == "turn_ids"
    assert BotTurn.objects.filter(resolved_at__isnull=False).count() == 0


def test_an_exact_confirmed_question_is_answered_even_before_the_search_index_follows(handbook, editor):
    # given a variant added by tuning whose after-commit re-indexing has not run (or failed)
    question = "机器半夜一直轰轰地响"
    services.ask(question=question)
    [group], _ = selectors.list_tuning_groups(actor=editor)
    services.add_tuning_variants(actor=editor, turn_ids=group.turn_ids, article_id=handbook["noise"].pk)
    # then the ranker's own n-gram index of the variants still finds and answers it
    again = services.ask(question=question)
    assert again.type == "answer" and again.article_id == handbook["noise"].pk
