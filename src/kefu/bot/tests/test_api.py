"""The bot API: public ask/feedback (no sign-in, validated, rate-limited) and the editors' tuning list
and settings (token or session with bot.tune)."""

from __future__ import annotations

import json

import pytest

from kefu.bot.models import BotTurn
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db

UNKNOWN = "你们的会员积分可以兑换什么礼品"


def test_ask_answers_without_signing_in(api, handbook):
    r = api().post("bot/ask", {"question": "快递到哪了"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["type"] == "answer"
    assert body["article_id"] == handbook["delivery"].pk and body["title"] == "发货时间与物流查询"
    assert "48 小时" in body["text"] and 0 <= body["confidence"] <= 1
    assert body["url"] == f"/help/articles/{handbook['delivery'].pk}/"
    assert set(body) == {"type", "text", "article_id", "title", "confidence", "url", "session"}


def test_ask_hands_off_and_continues_the_session(api, handbook):
    client = api()
    r = client.post("bot/ask", {"question": UNKNOWN, "email": "Li@Example.com", "channel": "wechat"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"type", "ticket_number", "message", "session"} and body["type"] == "handoff"
    ticket = Ticket.objects.get(number=body["ticket_number"])
    assert ticket.channel == "wechat"
    assert ticket.customer.identities.filter(kind="email", value="li@example.com").exists()
    again = client.post("bot/ask", {"question": "积分什么时候过期", "session": body["session"]}).json()
    assert again["type"] == "handoff" and again["ticket_number"] == body["ticket_number"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "问" * 501}, "question"),
        ({"question": "  "}, "question"),
        ({"question": "发货", "channel": "fax"}, "channel"),
        ({"question": "发货", "session": "s" * 65}, "session"),
        ({"question": 5}, "question"),
    ],
)
def test_ask_validation_is_a_422_naming_the_field(api, handbook, payload, field):
    r = api().post("bot/ask", payload)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field
    assert not BotTurn.objects.exists()


def test_ask_is_rate_limited_per_ip(api, handbook, settings):
    settings.KEFU_BOT_LIMIT_PER_IP_MINUTE = 1
    client = api()
    assert client.post("bot/ask", {"question": "快递到哪了"}).status_code == 200
    r = client.post("bot/ask", {"question": "快递到哪了"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"


def test_ask_ignores_browser_sessions_so_no_csrf_is_needed(handbook, agent):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(agent)
    r = c.post("/api/v1/bot/ask", {"question": "快递到哪了"}, content_type="application/json")
    assert r.status_code == 200


def test_feedback(api, handbook):
    client = api()
    answer = client.post("bot/ask", {"question": "快递到哪了"}).json()
    payload = {"session": answer["session"], "article_id": answer["article_id"], "helpful": True}
    assert client.post("bot/feedback", payload).json() == {"created": True}
    assert client.post("bot/feedback", payload).json() == {"created": False}
    r = client.post("bot/feedback", {**payload, "article_id": handbook["refund"].pk})
    assert r.status_code == 404
    assert client.post("bot/feedback", {**payload, "helpful": "maybe"}).status_code == 422


def test_tuning_list_and_actions_need_bot_tune(api, handbook, editor, agent):
    for q in (UNKNOWN, "积分可以兑换什么礼品呀"):
        api().post("bot/ask", {"question": q})
    assert api().get("bot/tuning").status_code == 401
    assert api(agent).get("bot/tuning").status_code == 403

    r = api(editor).get("bot/tuning")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["total_groups"] == 1
    [group] = body["groups"]
    assert group["count"] == 2 and group["handed_off"] == 2 and len(group["turn_ids"]) == 2
    assert {q["text"] for q in group["questions"]} == {UNKNOWN, "积分可以兑换什么礼品呀"}

    assert (
        api(agent).post("bot/tuning/variants", {"turn_ids": group["turn_ids"], "article_id": 1}).status_code
        == 403
    )
    r = api(editor).post(
        "bot/tuning/variants", {"turn_ids": group["turn_ids"], "article_id": handbook["refund"].pk}
    )
    assert r.status_code == 200 and r.json() == {"resolved": 2}
    r = api(editor).post("bot/tuning/resolve", {"turn_ids": group["turn_ids"], "resolution": "dismissed"})
    assert r.status_code == 404
    r = api(editor).post("bot/tuning/resolve", {"turn_ids": group["turn_ids"], "resolution": "later"})
    assert r.status_code == 422 and r.json()["field"] == "resolution"


def test_settings_api(api, editor, agent, team):
    assert api(agent).get("bot/settings").status_code == 403
    assert api(editor).get("bot/settings").json()["threshold"] == 0.5
    r = api(editor).client.put(
        "/api/v1/bot/settings",
        json.dumps({"threshold": 0.6, "low_confidence_margin": 0.1, "handoff_team_id": team.pk}),
        content_type="application/json",
        HTTP_AUTHORIZATION=api(editor).client.defaults["HTTP_AUTHORIZATION"],
    )
    assert r.status_code == 200, r.content
    assert r.json() == {"threshold": 0.6, "low_confidence_margin": 0.1, "handoff_team_id": team.pk}
    r = api(editor).client.put(
        "/api/v1/bot/settings",
        '{"threshold": 2, "low_confidence_margin": 0.1}',
        content_type="application/json",
        HTTP_AUTHORIZATION=api(editor).client.defaults["HTTP_AUTHORIZATION"],
    )
    assert r.status_code == 422 and r.json()["field"] == "threshold"
