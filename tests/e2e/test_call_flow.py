"""Logging a phone call: the agent types the caller's number (any format), sees who is calling and
their history, and turns the call into a ticket."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import signed_in, unique

PHONE = re.compile(r"^\+?[\d ]{11,}$")


def regrouped(phone: str) -> str:
    """The same mainland mobile number as typed differently: "+86 1391 2345 678" for "139 1234 5678"."""
    digits = re.sub(r"\D", "", phone)
    digits = digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
    assert len(digits) == 11, phone
    return f"+86 {digits[:4]} {digits[4:8]} {digits[8:]}"


def test_agent_logs_a_call_from_a_known_customer(page):
    # given a seeded customer with a ticket that agent1 can see (the oldest in their list)
    signed_in(page, "agent1", next_url="/tickets/?view=all&sort=oldest")
    page.locator("#kf-inbox-list a[data-kf-open]").first.click()
    old_number = page.get_by_test_id("ticket-number").inner_text()
    name = page.get_by_test_id("ticket-customer").inner_text()
    identities = page.locator("#kf-customer").get_by_test_id("customer-identity")
    phone = identities.filter(has_text=PHONE).first.inner_text()

    # when the customer calls and agent1 types the number in another format on "log a call"
    page.goto("/calls/new/")
    typed = regrouped(phone)
    assert typed.replace(" ", "") != phone.replace(" ", "")
    page.get_by_test_id("phone").press_sequentially(typed)

    # then the caller is recognised: their name and previous tickets appear
    card = page.get_by_test_id("call-customer")
    expect(card).to_have_attribute("data-state", "known")
    expect(card).to_contain_text("老客户")
    expect(card.get_by_test_id("customer-name")).to_have_text(name)
    expect(card.get_by_test_id("customer-tickets")).to_contain_text(old_number)

    # when they write down what the call is about and create the ticket
    subject = unique("来电")
    page.locator("#id_subject").fill(f"{subject} 制氧机报警灯一直亮")
    page.locator("#id_description").fill("顾客来电：开机十分钟后报警，已指导检查滤网。")
    page.locator("#id_type").select_option("repair")
    page.get_by_test_id("create-ticket").click()

    # then they are on the new ticket: a phone ticket of that customer, with the call notes
    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)
    new_number = page.get_by_test_id("ticket-number").inner_text()
    assert new_number != old_number
    expect(page.get_by_role("alert")).to_contain_text(new_number)
    expect(page.get_by_test_id("ticket-channel")).to_contain_text("电话")
    expect(page.get_by_test_id("ticket-status")).to_have_text("新建")
    expect(page.get_by_test_id("ticket-customer")).to_have_text(name)
    expect(page.locator("#kf-ticket-header")).to_contain_text("开机十分钟后报警")
    # and the customer panel lists the earlier ticket
    expect(page.locator("#kf-customer")).to_contain_text(old_number)
