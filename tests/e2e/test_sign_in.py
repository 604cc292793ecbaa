import re

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in


def test_agent_signs_in_in_chinese_and_switches_to_english(page):
    # given the sign-in page in the default language
    page.goto("/login/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    # when an agent signs in
    sign_in(page, "agent1")
    # then they are in the console, in Chinese, with their name and role shown
    expect(page.get_by_test_id("current-user")).to_contain_text("客服")
    # when they switch the language to English
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    # then the page speaks English
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^en"))
    screenshot(page, "after-language-switch")


def test_wrong_password_is_refused_with_a_message(page):
    sign_in(page, "agent1", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
