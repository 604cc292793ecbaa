"""The console's search page: one search over articles, standard replies and the tickets a user may see."""

import re

import pytest
from django.test import Client

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.knowledge import services as kb
from kefu.tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_a():
    return TeamFactory(name="售后一组")


@pytest.fixture
def team_b():
    return TeamFactory(name="售后二组")


@pytest.fixture
def agent(team_a):
    return UserFactory(username="li", display_name="李客服", role="agent", teams=[team_a])


@pytest.fixture
def scenery(agent, team_a, team_b, django_capture_on_commit_callbacks):
    """Tickets, an article and replies written through services; the index follows after commit."""
    editor = UserFactory(username="editor", role="knowledge_editor")
    other = UserFactory(username="zhao", role="agent", teams=[team_b])
    with django_capture_on_commit_callbacks(execute=True):
        mine, _ = services.create_ticket(
            actor=agent,
            subject="制氧机噪音很大",
            description="晚上嗡嗡响",
            customer_name="王女士",
            customer_identities={"phone": "13800138000"},
            team_id=team_a.pk,
        )
        theirs, _ = services.create_ticket(
            actor=other,
            subject="制氧机噪音投诉（二组）",
            description="二组的客户说制氧机噪音大",
            customer_name="赵先生",
            customer_identities={"phone": "13900139000"},
            team_id=team_b.pk,
        )
        article = kb.save_article(
            actor=editor,
            title="制氧机运行噪音大怎么办",
            body="制氧机噪音变大请清洗过滤棉。",
            variants=[],
            category_id=None,
            product_ids=[],
            audience="internal",
            status="published",
        )
        reply = kb.save_reply(
            actor=editor, title="制氧机噪音安抚", body="{customer.name}您好，制氧机噪音已登记。"
        )
        foreign_reply = kb.save_reply(
            actor=editor, title="制氧机噪音（二组话术）", body="二组的制氧机噪音话术。", team_id=team_b.pk
        )
    return {
        "mine": mine,
        "theirs": theirs,
        "article": article,
        "reply": reply,
        "foreign_reply": foreign_reply,
    }


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def results(html: str, kind: str) -> str:
    m = re.search(rf'data-testid="results-{kind}"(.*?)</section>', html, re.S)
    return m.group(1) if m else ""


def test_search_page_shows_each_kind_with_counts_and_highlights(agent, scenery):
    # when the agent searches for 制氧机 噪音
    response = client_for(agent).get("/search/", {"q": "制氧机 噪音"})
    html = response.content.decode()
    assert response.status_code == 200
    # then the article, the shared reply and their own team's ticket are shown, with marked words
    assert scenery["article"].title in results(html, "article")
    assert f'href="/kb/articles/{scenery["article"].pk}/"' in results(html, "article")
    assert scenery["reply"].title in results(html, "reply")
    assert scenery["mine"].number in results(html, "ticket")
    assert f'href="/tickets/{scenery["mine"].pk}/"' in results(html, "ticket")
    assert "<mark>" in html
    # and each tab carries its count
    assert re.search(r'data-testid="tab-ticket">Tickets <span[^>]*>1</span>', html)


def test_an_agent_does_not_find_another_teams_ticket_or_reply(agent, scenery):
    html = client_for(agent).get("/search/", {"q": "制氧机 噪音"}).content.decode()
    # the other team's ticket and team reply exist and match, but the agent may not see them
    assert scenery["theirs"].number not in html
    assert "赵先生" not in html and "二组" not in html
    assert scenery["foreign_reply"].title not in html


def test_an_admin_sees_every_teams_ticket(scenery):
    admin = UserFactory(username="boss", role="admin")
    html = client_for(admin).get("/search/", {"q": "制氧机 噪音", "kind": "ticket"}).content.decode()
    assert scenery["mine"].number in results(html, "ticket")
    assert scenery["theirs"].number in results(html, "ticket")


def test_a_tab_shows_one_kind(agent, scenery):
    html = client_for(agent).get("/search/", {"q": "制氧机 噪音", "kind": "reply"}).content.decode()
    assert scenery["reply"].title in results(html, "reply")
    assert results(html, "ticket") == ""
    assert results(html, "article") == ""


def test_empty_and_odd_queries(agent, scenery):
    c = client_for(agent)
    assert c.get("/search/").status_code == 200
    assert c.get("/search/", {"q": "zzzqqq", "kind": "nonsense"}).status_code == 200
    assert "Nothing found" in c.get("/search/", {"q": "zzzqqq"}).content.decode()


def test_search_page_needs_sign_in():
    response = Client().get("/search/", {"q": "制氧机"})
    assert response.status_code == 302


def test_header_offers_the_search_box(agent):
    html = client_for(agent).get("/tickets/").content.decode()
    assert 'action="/search/"' in html


def test_search_page_queries_are_bounded(agent, scenery, django_assert_max_num_queries):
    c = client_for(agent)
    c.get("/search/", {"q": "制氧机 噪音"})  # warm the session and the segmenter
    with django_assert_max_num_queries(20):
        response = c.get("/search/", {"q": "制氧机 噪音"})
    assert response.status_code == 200
