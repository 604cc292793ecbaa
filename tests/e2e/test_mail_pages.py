"""The admin's view of the email channel on the demo: the mailbox, its mail log, and a received
Outlook mail shown safely (sanitized HTML in a sandboxed frame, the tracking pixel not loaded)."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, signed_in


def test_admin_reads_a_received_mail_from_the_mail_log(page):
    # given the admin on the channels page, with the demo mailbox fed by kefu smtpd
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    signed_in(page, "admin", next_url="/channels/")
    row = page.get_by_test_id("mailbox-row").filter(has_text="service@demo.kefu.test")
    expect(row).to_have_count(1)

    # when they open its mail log
    row.get_by_role("link", name="邮件记录").click()
    rows = page.get_by_test_id("mail-row")
    expect(rows.first).to_be_visible()
    expect(page.get_by_test_id("mail-table")).to_contain_text("自动回复")  # the demo's out-of-office

    # and open the customer's GBK-encoded Outlook mail
    received = page.locator("[data-testid=mail-row][data-direction=in][data-status=new_ticket]")
    received.filter(has_text="净水器滤芯更换后漏水").get_by_role("link").first.click()

    # then its headers and the ticket it made are shown, and the HTML reads in Chinese inside the frame
    expect(page.get_by_test_id("email-headers")).to_contain_text("wangfang@example.cn")
    expect(page.get_by_test_id("email-ticket")).to_have_text(re.compile(r"^T\d{13,}$"))
    frame = page.frame_locator("[data-testid=email-html] iframe")
    expect(frame.locator("body")).to_contain_text("接口一直滴水")
    expect(frame.locator("b")).to_have_text("京东")
    # and the remote tracking pixel was removed, so nothing was fetched from outside
    expect(frame.locator("img")).to_have_count(0)
    assert not [u for u in requested if "tracker.example.com" in u]
    screenshot(page, "mail-detail")
