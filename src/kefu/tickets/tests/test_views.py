import pytest
from django.test import Client

from kefu.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_home_speaks_chinese_by_default_and_english_on_request():
    # given an anonymous visitor; when they open the home page; then it is in zh-hans, or English when asked
    assert "登录" in Client().get("/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "Sign in" in english and "登录" not in english


def test_pages_carry_a_strict_content_security_policy():
    r = Client().get("/login/")
    csp = r["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "style-src 'self'" in csp
        and "unsafe-inline" not in csp
        and "object-src 'none'" in csp
    )


def test_login_page_signs_in_with_the_password():
    UserFactory(username="li", role="agent")
    c = Client()
    r = c.post("/login/", {"username": "li", "password": "kefu-test"})
    assert r.status_code == 302
    assert c.get("/login/").context["user"].username == "li"


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(settings):
    # given a user; when someone tries 5 wrong passwords
    UserFactory(username="wang", role="agent")
    c = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        c.post("/login/", {"username": "wang", "password": "wrong-password"})
    # then even the right password is refused with the lockout page
    r = c.post("/login/", {"username": "wang", "password": "kefu-test"})
    assert r.status_code == 429
    assert "wang" not in str(c.session.get("_auth_user_id", ""))
