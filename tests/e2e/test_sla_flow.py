"""SLA as an agent sees it: the clocks in the ticket header (business time, loaded by htmx) and the
inbox's "SLA breached" view, most urgent first (the demo's National Day complaint is breached)."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import create_ticket, screenshot, signed_in, unique

ROWS = "#kf-inbox-list tbody tr[data-kf-row]"


def test_agent_sees_the_sla_clocks_and_the_breached_tickets(en_page):
    page = en_page
    # given agent1 and a new complaint of their team (the demo's 投诉 policy applies to complaints)
    signed_in(page, "agent1")
    ticket = create_ticket(page, subject=unique("SLA"))

    # when they open the ticket; then its header shows the clocks in business time
    page.goto(f"/tickets/{ticket['id']}/")
    first = page.locator('#kf-sla-badge [data-kf-sla="first_reply"]')
    expect(first).to_contain_text(re.compile(r"^First reply: due in .+ \(business time\) · due \d"))
    expect(first).to_have_attribute("data-kf-sla-state", re.compile(r"^(ok|soon)$"))
    expect(first).to_have_attribute("title", re.compile(r"^Business calendar: 热线.* · policy: 投诉$"))
    expect(page.locator('#kf-sla-badge [data-kf-sla="resolution"]')).to_contain_text("Resolution: due in")
    screenshot(page, "sla-ticket-header")

    # when they open the "SLA breached" tab; then only overdue tickets are listed, by due time
    page.goto("/tickets/")
    page.locator("[data-kf-tab=breached]").click()
    expect(page.locator("[data-kf-tab=breached]")).to_have_attribute("aria-current", "page")
    expect(page.locator("#kf-f-sort")).to_have_value("due")
    rows = page.locator(ROWS)
    expect(rows.first).to_be_visible()
    expect(rows.locator('[data-kf-due]:not([data-kf-due="overdue"])')).to_have_count(0)
    expect(rows.first.locator("[data-kf-due]")).to_contain_text("overdue by")
    screenshot(page, "sla-inbox-breached")


def test_the_national_day_complaint_climbed_the_ladder_in_timeline_and_bell(en_page):
    page = en_page
    # given the demo's complaint of Friday 2025-09-26 17:20, replayed by the seed and left alone
    signed_in(page, "supervisor", next_url="/tickets/?view=all&q=制氧机噪音大")
    page.locator(ROWS).first.locator("a").first.click()
    # then its timeline shows the policy, the pause while waiting on the customer, and every ladder step
    timeline = page.locator("main")
    expect(timeline).to_contain_text("SLA policy 投诉 applies")
    expect(timeline).to_contain_text("Resolution clock paused")
    expect(timeline).to_contain_text("Resolution clock resumed, due 2025-10-13 09:20")
    expect(timeline).to_contain_text("Resolution target breached (due 2025-10-13 09:20)")
    expect(page.get_by_text(re.compile(r"^Escalation for Resolution"))).to_have_count(5)
    screenshot(page, "sla-ladder-timeline")
    # and the supervisor's bell lists the escalations addressed to them
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    page.locator("#kf-bell-toggle").click()
    expect(page.get_by_test_id("bell-items")).to_contain_text("Escalation for Resolution")
    screenshot(page, "sla-bell")
