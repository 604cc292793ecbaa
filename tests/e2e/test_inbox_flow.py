"""The inbox as an agent sees it: filters, search, keyboard shortcuts, language.

Each test makes the tickets it looks for (unique subjects), so tests may run in any order or in
parallel on one server; assertions on the whole list only claim what every row must satisfy."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import api_post, create_ticket, screenshot, sign_in, signed_in, unique

ROWS = "#kf-inbox-list tbody tr[data-kf-row]"


def row(page, ticket: dict):
    return page.locator(f'{ROWS}[data-kf-row="{ticket["id"]}"]')


def test_agent_filters_the_inbox_by_status_type_and_search(page):
    # given agent1, signed in, and two tickets of their team: a new inquiry and a pending complaint
    sign_in(page, "agent1", next_url="/tickets/")
    expect(page.get_by_test_id("current-user")).to_contain_text("张晓燕")
    marker = unique("筛选")
    inquiry = create_ticket(page, subject=f"{marker} 净水器滤芯怎么换", type="inquiry")
    waiting = create_ticket(page, subject=f"{marker} 血压计测不准", type="complaint")
    api_post(page, f"tickets/{waiting['id']}/transition", {"to": "pending"})
    rows = page.locator(ROWS)

    # when the agent opens the "all tickets" tab
    page.locator("[data-kf-tab=all]").click()
    expect(page.locator("[data-kf-tab=all]")).to_have_attribute("aria-current", "page")
    expect(row(page, inquiry)).to_be_visible()
    expect(row(page, waiting)).to_be_visible()

    # and filters by status "pending": only pending tickets are listed, the address says so
    page.locator("#kf-f-status").select_option("pending")
    expect(rows.locator('[data-kf-status]:not([data-kf-status="pending"])')).to_have_count(0)
    expect(row(page, waiting)).to_be_visible()
    expect(row(page, waiting).locator("[data-kf-status]")).to_have_text("待客户回复")
    expect(page).to_have_url(re.compile(r"[?&]status=pending"))

    # when they drop the status filter and choose the type "inquiry": only inquiries are listed
    inquiry_label = page.locator("#kf-f-type option[value=inquiry]").inner_text().strip()
    page.locator("#kf-f-status").select_option("")
    page.locator("#kf-f-type").select_option("inquiry")
    expect(row(page, inquiry)).to_be_visible()
    expect(rows.get_by_test_id("ticket-type").filter(has_not_text=inquiry_label)).to_have_count(0)
    expect(row(page, inquiry).get_by_test_id("ticket-type")).to_have_text("咨询")

    # when they type in the search box (searches as they type): just the matching inquiry is left
    page.locator("#kf-f-q").fill(marker)
    expect(rows).to_have_count(1)
    expect(row(page, inquiry)).to_contain_text(marker)
    expect(page).to_have_url(re.compile(r"[?&]q="))

    # and without the type filter both tickets with that subject are found
    page.locator("#kf-f-type").select_option("")
    expect(rows).to_have_count(2)
    expect(row(page, waiting)).to_be_visible()

    # when they clear the filters the search box is empty and the other tickets are back
    page.locator("#kf-filters").get_by_role("link").click()
    expect(page.locator("#kf-f-q")).to_have_value("")
    expect(page.locator("#kf-f-type")).to_have_value("")
    expect(rows.nth(2)).to_be_visible()
    screenshot(page, "inbox")


def test_agent_moves_through_the_inbox_with_the_keyboard(page):
    # given agent1 on a list of three tickets of their own
    signed_in(page, "agent1")
    marker = unique("键盘")
    for n in (1, 2, 3):
        create_ticket(page, subject=f"{marker} 第{n}个")
    page.goto(f"/tickets/?view=all&q={marker}")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(3)
    selected = page.locator(f"{ROWS}.kf-row-selected")

    # j selects the first row, j the next one, k goes back
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bkf-row-selected\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bkf-row-selected\b"))
    expect(selected).to_have_count(1)
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bkf-row-selected\b"))
    expect(selected).to_have_count(1)

    # ? shows the keyboard help, Escape closes it
    help_dialog = page.locator("#kf-help")
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.locator("kbd", has_text="j")).to_be_visible()
    expect(help_dialog).to_be_focused()  # shown (Bootstrap focuses it when the fade-in ends)
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # / puts the cursor in the search box
    page.keyboard.press("/")
    expect(page.locator("#kf-f-q")).to_be_focused()
    page.locator("#kf-f-q").blur()

    # Enter opens the selected ticket
    ticket_id = rows.nth(0).get_attribute("data-kf-row")
    number = rows.nth(0).locator("a[data-kf-open]").inner_text()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket_id}/$"))
    expect(page.get_by_test_id("ticket-number")).to_have_text(number)


def test_agent_switches_the_inbox_to_english(page):
    # given agent1 on the inbox in Chinese
    signed_in(page, "agent1", next_url="/tickets/?view=all")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-kf-tab=all]")).to_contain_text("全部工单")

    # when they choose English in the language menu
    page.locator("#kf-lang").select_option("en")
    page.get_by_test_id("language-form").locator("button[type=submit]").click()

    # then they are back on the same inbox, in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/tickets/\?view=all$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")
    expect(page.locator("[data-kf-tab=all]")).to_contain_text("All tickets")
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()
    expect(page.locator("#kf-f-status option[value=new]")).to_have_text("New")
    expect(page.locator(f'{ROWS} [data-kf-status="closed"]').first).to_have_text("Closed")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "inbox-en")
