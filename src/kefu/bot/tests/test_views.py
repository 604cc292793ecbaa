"""The bot console: the tuning list (grouped, with the three actions) and the settings form, for
knowledge editors and administrators only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse

from kefu.bot import services
from kefu.bot.models import BotSettings, BotTurn
from kefu.knowledge.models import ArticleVariant

pytestmark = pytest.mark.django_db

POINTS = ["会员积分可以兑换什么礼品", "积分可以兑换什么礼品呀"]


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_only_tuners_open_the_pages(agent, editor):
    assert client_for(agent).get(reverse("bot:tuning")).status_code == 403
    assert client_for(agent).get(reverse("bot:settings")).status_code == 403
    assert Client().get(reverse("bot:tuning")).status_code == 302
    r = client_for(editor).get(reverse("bot:tuning"))
    assert r.status_code == 200
    assert "Bot tuning" in r.content.decode() or "机器人调养" in r.content.decode()
    # the navigation shows the page to editors only
    assert reverse("bot:tuning") in r.content.decode()
    assert reverse("bot:tuning") not in client_for(agent).get(reverse("inbox")).content.decode()


def test_the_tuning_list_shows_groups_and_adds_variants(handbook, editor):
    for q in POINTS:
        services.ask(question=q)
    c = client_for(editor)
    page = c.get(reverse("bot:tuning")).content.decode()
    assert page.count('data-testid="tuning-group"') == 1
    assert POINTS[0] in page and POINTS[1] in page
    turns = ",".join(str(pk) for pk in BotTurn.objects.order_by("id").values_list("pk", flat=True))

    # no article chosen: the list again with the error
    r = c.post(reverse("bot:tuning_variant"), {"turns": turns, "texts": POINTS})
    assert r.status_code == 422 and 'data-testid="tuning-error"' in r.content.decode()

    r = c.post(
        reverse("bot:tuning_variant"),
        {"turns": turns, "texts": [POINTS[0]], "article": "", "other_article": handbook["refund"].pk},
    )
    assert r.status_code == 302 and r["Location"] == reverse("bot:tuning")
    assert list(ArticleVariant.objects.filter(source="bot_tuning").values_list("text", flat=True)) == [
        POINTS[0]
    ]
    assert 'data-testid="tuning-empty"' in c.get(reverse("bot:tuning")).content.decode()


def test_write_a_new_article_opens_the_editor_with_the_questions(handbook, editor):
    for q in POINTS:
        services.ask(question=q)
    turns = ",".join(str(pk) for pk in BotTurn.objects.values_list("pk", flat=True))
    r = client_for(editor).post(reverse("bot:tuning_article"), {"turns": turns, "questions": POINTS})
    assert r.status_code == 302
    url = urlparse(r["Location"])
    assert url.path == reverse("knowledge:article_new")
    assert parse_qs(url.query) == {"title": [POINTS[0]], "variants": [POINTS[1]]}
    assert set(BotTurn.objects.values_list("resolution", flat=True)) == {"article_written"}
    # and the editor it opens is filled in with them
    page = client_for(editor).get(r["Location"]).content.decode()
    assert f'value="{POINTS[0]}"' in page and POINTS[1] in page


def test_dismiss(handbook, editor):
    services.ask(question=POINTS[0])
    turns = str(BotTurn.objects.get().pk)
    r = client_for(editor).post(reverse("bot:tuning_dismiss"), {"turns": turns})
    assert r.status_code == 302
    assert BotTurn.objects.get().resolution == "dismissed"
    r = client_for(editor).post(reverse("bot:tuning_dismiss"), {"turns": turns})
    assert r.status_code == 404  # resolved already: the list again, with the error


def test_settings_form(editor, team):
    c = client_for(editor)
    assert c.get(reverse("bot:settings")).status_code == 200
    r = c.post(
        reverse("bot:settings"), {"threshold": "1.2", "low_confidence_margin": "0.1", "handoff_team": ""}
    )
    assert r.status_code == 422 and 'data-testid="error-threshold"' in r.content.decode()
    r = c.post(
        reverse("bot:settings"),
        {"threshold": "0.65", "low_confidence_margin": "0.1", "handoff_team": str(team.pk)},
    )
    assert r.status_code == 302
    s = BotSettings.load()
    assert (s.threshold, s.handoff_team_id) == (0.65, team.pk)
