"""The ticket page as an agent works it: replies and internal notes, status changes, transfers.

Every test starts from a fresh ticket of its own (made through the API as agent1), so they do not
depend on each other or on the order they run in."""

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import create_ticket, screenshot, signed_in, unique


def open_new_ticket(page, **fields) -> dict:
    """Sign in as agent1, create a ticket in the hotline team and open its page."""
    signed_in(page, "agent1")
    ticket = create_ticket(page, **fields)
    page.goto(f"/tickets/{ticket['id']}/")
    expect(page.get_by_test_id("ticket-number")).to_have_text(ticket["number"])
    return ticket


def timeline_message(page, body: str):
    return page.locator("#kf-timeline > li[data-kind]", has_text=body)


def event(page, verb: str):
    return page.locator(f'#kf-timeline > li[data-verb="{verb}"]')


def test_agent_replies_and_writes_internal_notes(page):
    # given agent1 on a new ticket
    open_new_ticket(page, subject=unique("回复"), description="制氧机开机后不出氧")
    composer = page.locator("#kf-composer")
    body = page.locator("#kf-composer-body")

    # when they press n, the composer switches to an internal note and takes the cursor
    page.keyboard.press("n")
    expect(page.locator("#kf-kind-note")).to_be_checked()
    expect(body).to_be_focused()
    expect(body).to_have_class(re.compile(r"\bbg-warning-subtle\b"))
    # and Ctrl+Enter sends it: it shows in the timeline, marked as internal
    shortcut_note = unique("快捷键备注")
    body.fill(f"{shortcut_note} 已联系仓库确认库存")
    body.press("Control+Enter")
    note = timeline_message(page, shortcut_note)
    expect(note).to_have_attribute("data-kind", "note")
    expect(note.locator(".badge")).to_have_text("内部备注")

    # when they switch the toggle to "public reply" and send
    composer.locator("label[for=kf-kind-reply]").click()
    expect(page.locator("#kf-kind-reply")).to_be_checked()
    expect(body).not_to_have_class(re.compile(r"\bbg-warning-subtle\b"))
    reply = unique("回复")
    body.fill(f"{reply} 您好，我们已安排工程师上门检修。")
    composer.locator("button[type=submit]").click()
    # then the reply is in the timeline as a public reply
    sent = timeline_message(page, reply)
    expect(sent).to_have_attribute("data-kind", "reply")
    expect(sent.locator(".badge")).to_have_text("公开回复")
    expect(sent).to_contain_text("张晓燕")

    # when they switch the toggle back to "internal note" and send
    composer.locator("label[for=kf-kind-note]").click()
    expect(page.locator("#kf-kind-note")).to_be_checked()
    toggle_note = unique("备注")
    body.fill(f"{toggle_note} 顾客希望周末上门")
    composer.locator("button[type=submit]").click()
    # then it is in the timeline, marked as internal, after the reply
    note2 = timeline_message(page, toggle_note)
    expect(note2).to_have_attribute("data-kind", "note")
    expect(note2.locator(".badge")).to_have_text("内部备注")
    messages = page.locator("#kf-timeline > li[data-kind]")
    expect(messages).to_have_count(3)
    expect(messages.nth(1)).to_contain_text(reply)
    expect(messages.nth(2)).to_contain_text(toggle_note)
    # and the composer is ready for the next message
    expect(body).to_have_value("")
    screenshot(page, "ticket")


def test_agent_changes_the_status_only_to_allowed_ones(page):
    # given agent1 on a new ticket
    open_new_ticket(page, subject=unique("状态"))
    badge = page.get_by_test_id("ticket-status")
    expect(badge).to_have_text("新建")
    options = page.locator("#kf-status-to option")

    # then "closed" is not offered (a new ticket must be solved first), the allowed ones are
    expect(options).to_have_count(4)
    expect(page.locator("#kf-status-to option[value=closed]")).to_have_count(0)
    expect(page.locator("#kf-status-to option[value=new]")).to_have_count(0)
    for value in ("open", "pending", "on_hold", "solved"):
        expect(page.locator(f"#kf-status-to option[value={value}]")).to_have_count(1)

    # when they change it to "solved" with a comment
    page.locator("#kf-status-to").select_option("solved")
    comment = unique("已解决")
    page.locator("#kf-status-comment").fill(f"{comment} 已远程指导顾客复位")
    page.locator("#kf-field-status button[type=submit]").click()

    # then the badge says solved, the change is in the timeline and the comment is an internal note
    expect(badge).to_have_text("已解决")
    expect(event(page, "ticket.status_changed").last).to_contain_text("已解决")
    expect(timeline_message(page, comment)).to_have_attribute("data-kind", "note")
    # and from "solved" the choices are reopen or close
    expect(options).to_have_count(2)
    expect(page.locator("#kf-status-to option[value=closed]")).to_have_count(1)
    expect(page.locator("#kf-status-to option[value=open]")).to_have_count(1)


def test_agent_transfers_a_ticket_to_quality_control(en_page):
    page = en_page
    # given agent1 on a new ticket (an English browser this time)
    open_new_ticket(page, subject=unique("transfer"), type="defect")
    expect(page.get_by_test_id("ticket-status")).to_have_text("New")

    # when they open "Transfer to another department" and hand it to 品控 with a note and a reply-by time
    form = page.locator("#kf-transfer")
    page.locator("details:has(#kf-transfer) > summary").click()
    expect(form).to_be_visible()
    form.get_by_label("Department", exact=True).select_option(label="品控")
    note = unique("请品控")
    form.get_by_label("Note for the department").fill(f"{note} 同批次已有三起投诉，请检测分子筛")
    reply_by = (datetime.now() + timedelta(days=2)).replace(hour=17, minute=30)
    form.get_by_label("Reply by (optional)").fill(reply_by.strftime("%Y-%m-%dT%H:%M"))
    form.locator("button[type=submit]").click()

    # then a success message is shown and the ticket waits on hold for the other department
    expect(page.locator("#kf-toasts")).to_contain_text("Transferred to 品控.")
    expect(page.get_by_test_id("ticket-status")).to_have_text("On hold (waiting on another team)")
    expect(page.locator("#kf-field-status .badge")).to_have_text("On hold (waiting on another team)")
    # and the timeline shows the transfer, the status change and the note for the department
    expect(event(page, "ticket.transferred")).to_contain_text("Transferred to 品控")
    expect(event(page, "ticket.status_changed").last).to_contain_text("On hold (waiting on another team)")
    note_entry = timeline_message(page, note)
    expect(note_entry).to_have_attribute("data-kind", "note")
    expect(note_entry.locator(".badge")).to_have_text("Internal note")
