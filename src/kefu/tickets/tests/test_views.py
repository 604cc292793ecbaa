import pytest
from django.test import Client

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.tickets import services

pytestmark = pytest.mark.django_db


def test_home_speaks_chinese_by_default_and_english_on_request():
    # given an anonymous visitor; when they open the home page; then it is in zh-hans, or English when asked
    assert "登录" in Client().get("/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "Sign in" in english and "登录" not in english


def test_signed_in_agent_sees_open_tickets_escaped():
    # given an agent with an open ticket whose subject contains markup
    team = TeamFactory()
    agent = UserFactory(role="agent", teams=[team])
    t, _ = services.create_ticket(
        actor=agent, subject="<script>alert(1)</script>噪音", customer_identities={"phone": "13600136000"}
    )
    c = Client()
    c.force_login(agent)
    # when they open the home page
    page = c.get("/").content.decode()
    # then the ticket is listed, its subject escaped, its status in Chinese
    assert t.number in page and "&lt;script&gt;" in page and "<script>alert" not in page
    assert "新建" in page


def test_login_page_signs_in_with_the_password():
    UserFactory(username="li", role="agent")
    c = Client()
    r = c.post("/login/", {"username": "li", "password": "kefu-test"})
    assert r.status_code == 302
    assert c.get("/").context["user"].username == "li"
