"""Agent assist on the ticket page: suggested handbook articles and standard replies for the ticket's
text, a search box, the composer's reply picker, and inserting a reply with its placeholders filled."""

import re

import pytest
from django.test import Client

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.knowledge import services as kb
from kefu.knowledge.models import StandardReply
from kefu.tickets import services

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def team():
    return TeamFactory(name="售后一组")


@pytest.fixture
def other_team():
    return TeamFactory(name="外包二组")


@pytest.fixture
def agent(team):
    return UserFactory(username="li", display_name="李客服", role="agent", teams=[team])


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.fixture
def ticket(agent, team):
    t, _ = services.create_ticket(
        actor=agent,
        subject="制氧机晚上声音很大",
        description="买了两周，睡觉时嗡嗡响",
        customer_name="王女士",
        customer_identities={"phone": "13800138000"},
        team_id=team.pk,
    )
    services.add_message(actor=agent, ticket_id=t.pk, kind="customer", body="制氧机噪音太大了，能换吗？")
    return t


@pytest.fixture
def handbook(editor, team, other_team, django_capture_on_commit_callbacks):
    """Articles and standard replies written by an editor through the knowledge services; the search
    index follows after commit."""

    def article(title, body, audience="public", status="published"):
        return kb.save_article(
            actor=editor,
            title=title,
            body=body,
            variants=[],
            category_id=None,
            product_ids=[],
            audience=audience,
            status=status,
        )

    def reply(title, body, team_id=None, is_active=True):
        return kb.save_reply(actor=editor, title=title, body=body, team_id=team_id, is_active=is_active)

    with django_capture_on_commit_callbacks(execute=True):
        rows = {
            "noise": article("制氧机运行噪音大怎么办", "制氧机工作时压缩机有声音，噪音变大请清洗过滤棉。"),
            "visit": article(
                "制氧机噪音上门检测流程", "内部：噪音投诉安排网点上门检测。", audience="internal"
            ),
            "draft": article("制氧机噪音草稿", "制氧机噪音的草稿。", status="draft"),
            "bp": article("血压计显示 E2 错误", "袖带漏气，请检查气管。"),
            "soothe": reply(
                "制氧机噪音安抚",
                "{customer.name}您好，我是{agent.name}（{agent.team}）。制氧机噪音的问题已登记，工单号{ticket.number}。",
            ),
            "own": reply("制氧机噪音（本组）", "制氧机噪音请先清洗过滤棉。", team_id=team.pk),
            "foreign": reply("制氧机噪音（外包组）", "外包组的制氧机噪音话术。", team_id=other_team.pk),
            "inactive": reply("制氧机噪音（停用）", "停用的制氧机噪音话术。", is_active=False),
            "refund": reply("退款说明", "退款将在三个工作日内原路退回。"),
        }
    return rows


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def assist_url(t, **params) -> str:
    return f"/tickets/{t.pk}/assist/"


def insert_url(t, reply) -> str:
    return f"/tickets/{t.pk}/replies/{reply.pk}/insert/"


def section(html: str, testid: str) -> str:
    m = re.search(rf'data-testid="{testid}"(.*?)</ul>', html, re.S)
    return m.group(1) if m else ""


# --- the page --------------------------------------------------------------------------------------


def test_ticket_page_loads_the_panel_after_the_page(agent, ticket):
    # when the agent opens the ticket
    html = client_for(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    # then the panel is there, asking for its suggestions once the page has loaded (htmx),
    # and the composer offers the standard-reply picker
    assert "Suggested answers" in html
    assert f'hx-get="/tickets/{ticket.pk}/assist/" hx-trigger="load"' in html
    assert f'hx-get="/tickets/{ticket.pk}/replies/"' in html
    assert "kefu/assist.js" in html
    assert "<script>" not in html  # no inline scripts (CSP)


# --- suggestions -------------------------------------------------------------------------------------


def test_panel_suggests_the_handbook_article_and_the_reply_for_the_ticket(agent, ticket, handbook):
    # given a ticket about a noisy oxygen concentrator (制氧机 噪音)
    # when the panel asks for suggestions
    response = client_for(agent).get(assist_url(ticket), headers=HX)
    html = response.content.decode()
    articles, replies = section(html, "assist-articles"), section(html, "assist-replies")
    # then the handbook article on noise is suggested (opening in a new tab), and internal articles too
    assert response.status_code == 200
    assert handbook["noise"].title in articles
    assert f'href="/kb/articles/{handbook["noise"].pk}/" target="_blank"' in articles
    assert handbook["visit"].title in articles
    assert handbook["draft"].title not in articles
    # and the shared and own team's replies are offered with "Insert", not another team's or inactive ones
    assert handbook["soothe"].title in replies
    assert f'hx-post="/tickets/{ticket.pk}/replies/{handbook["soothe"].pk}/insert/"' in replies
    assert handbook["foreign"].title not in replies
    assert handbook["inactive"].title not in replies
    # at most three of each
    assert articles.count("<li") <= 3 and replies.count("<li") <= 3


def test_panel_search_box_finds_other_words(agent, ticket, handbook):
    # when the agent types other words in the panel's search box
    html = client_for(agent).get(assist_url(ticket), {"q": "血压计"}, headers=HX).content.decode()
    # then the answers for those words are shown instead
    assert handbook["bp"].title in section(html, "assist-articles")
    assert handbook["noise"].title not in section(html, "assist-articles")
    html = client_for(agent).get(assist_url(ticket), {"q": "退款"}, headers=HX).content.decode()
    assert handbook["refund"].title in section(html, "assist-replies")


def test_panel_queries_are_bounded(agent, ticket, handbook, django_assert_max_num_queries):
    c = client_for(agent)
    c.get(assist_url(ticket), headers=HX)  # warm the session and the segmenter
    with django_assert_max_num_queries(12):
        response = c.get(assist_url(ticket), headers=HX)
    assert response.status_code == 200


def test_panel_of_a_ticket_the_agent_may_not_see_is_not_found(ticket, handbook, other_team):
    outsider = UserFactory(username="wang", role="agent", teams=[other_team])
    response = client_for(outsider).get(assist_url(ticket), headers=HX)
    assert response.status_code == 404
    assert "制氧机" not in response.content.decode()


def test_panel_needs_sign_in(ticket):
    response = Client().get(assist_url(ticket))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- inserting a standard reply ----------------------------------------------------------------------


def test_insert_returns_the_reply_with_the_placeholders_filled_and_counts_it(agent, ticket, handbook):
    reply = handbook["soothe"]
    # when the agent inserts the standard reply
    response = client_for(agent).post(insert_url(ticket, reply), headers=HX)
    # then the text comes back with the customer's name, the agent, their team and the ticket number
    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert text == f"王女士您好，我是李客服（售后一组）。制氧机噪音的问题已登记，工单号{ticket.number}。"
    # and the reply's use is counted
    reply.refresh_from_db()
    assert reply.usage_count == 1


def test_insert_leaves_unfillable_placeholders_visible_and_says_so(agent, ticket, editor, team):
    reply = kb.save_reply(
        actor=editor, title="回访", body="{customer.name}您好，订单{order.number}已发货。", team_id=None
    )
    response = client_for(agent).post(insert_url(ticket, reply), headers=HX)
    assert response.content.decode() == "王女士您好，订单{order.number}已发货。"
    assert "{order.number}" in response["HX-Trigger"]


def test_another_teams_or_inactive_reply_cannot_be_inserted(agent, ticket, handbook):
    c = client_for(agent)
    for key in ("foreign", "inactive"):
        response = c.post(insert_url(ticket, handbook[key]), headers=HX)
        assert response.status_code == 404
        handbook[key].refresh_from_db()
        assert handbook[key].usage_count == 0


def test_insert_is_a_post(agent, ticket, handbook):
    assert client_for(agent).get(insert_url(ticket, handbook["soothe"]), headers=HX).status_code == 405


# --- the composer's picker ------------------------------------------------------------------------------


def test_picker_lists_the_most_used_replies_and_finds_others(agent, ticket, handbook):
    StandardReply.objects.filter(pk=handbook["refund"].pk).update(usage_count=9)
    c = client_for(agent)
    # when the agent opens the picker
    html = c.get(f"/tickets/{ticket.pk}/replies/", headers=HX).content.decode()
    # then the replies they may use are listed, the most used first
    listed = section(html, "assist-replies")
    assert listed.index(handbook["refund"].title) < listed.index(handbook["soothe"].title)
    assert handbook["own"].title in listed
    assert handbook["foreign"].title not in listed and handbook["inactive"].title not in listed
    # and typing narrows the list
    html = c.get(f"/tickets/{ticket.pk}/replies/", {"q": "退款", "list": "1"}, headers=HX).content.decode()
    assert handbook["refund"].title in html
    assert handbook["soothe"].title not in html
