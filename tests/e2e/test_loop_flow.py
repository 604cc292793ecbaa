"""The closed loop's "done when", on the demo: an insight becomes an improvement action for 物流; the
logistics owner, notified, commits a date; the overdue action stands on its ladder; the fixed one is
verified by its metric with a chart; and this week's VoC report shows all of it, including an
executive's claim. (The ladder's climb under a controllable clock and the signed remediation webhook
reaching a real receiver are tested in src/kefu/loops/tests: test_escalation, test_remediation.)"""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in, signed_in


def test_an_insight_becomes_an_action_that_is_owned_verified_and_reported(page):
    # given the e-commerce supervisor on the logistics insight
    signed_in(page, "supervisor2", "/voc/insights/")
    page.get_by_test_id("insight-row").filter(has_text="物流").first.locator("a").first.click()
    insight_title = page.get_by_test_id("insight-title").inner_text()

    # when they turn it into an improvement action owned by 物流
    page.get_by_test_id("insight-to-action").click()
    form = page.get_by_test_id("action-form")
    expect(form.locator("[name=title]")).to_have_value(insight_title)
    form.locator("[name=department]").select_option(label="物流")
    page.get_by_test_id("create-action").click()

    # then the action exists, proposed, with the insight's items as evidence and a deadline to commit
    expect(page.get_by_test_id("action-status")).to_be_visible()
    expect(page.get_by_test_id("action-department")).to_contain_text("物流")
    expect(page.get_by_test_id("evidence-row").first).to_be_visible()
    expect(page.get_by_test_id("action-due")).to_be_visible()
    number = page.get_by_test_id("action-number").inner_text().strip()
    url = page.url
    screenshot(page, "loop-action-created")

    # when the logistics owner signs in, they are notified and find it on their department's page
    page.context.clear_cookies()
    sign_in(page, "owner_logistics")
    page.goto("/notifications/")
    expect(page.get_by_test_id("notification-list")).to_contain_text(number)
    page.goto("/loops/mine/")
    expect(page.get_by_test_id("owner-table")).to_contain_text(number)

    # and commit a fix date
    page.goto(url)
    fix = (date.today() + timedelta(days=10)).isoformat()
    commit = page.get_by_test_id("commit-form")
    commit.locator("[name=date]").fill(fix)
    commit.locator("button[type=submit]").click()
    expect(page.get_by_test_id("action-status")).to_contain_text(re.compile("已接受|Accepted"))
    expect(page.get_by_test_id("action-timeline")).to_contain_text(fix)
    screenshot(page, "loop-action-committed")

    # then the overdue quality action stands escalated to the department head, visible to all
    page.goto("/loops/?overdue=1")
    overdue = page.locator("tr", has_text="袖带漏气").first
    expect(overdue.get_by_test_id("action-escalation")).to_be_visible()

    # and the packaging fix was verified by its metric, with the chart
    page.goto("/loops/?status=verified")
    page.locator("tr", has_text="运输包装破损").first.locator("a").first.click()
    expect(page.get_by_test_id("action-status")).to_contain_text(re.compile("已验证|Verified"))
    expect(page.get_by_test_id("verification-result")).to_be_visible()
    expect(page.get_by_test_id("verification-chart").locator("canvas")).to_be_visible()
    screenshot(page, "loop-action-verified")

    # when the CEO opens this week's report and claims the new action
    page.context.clear_cookies()
    sign_in(page, "ceo")
    page.goto("/loops/reports/")
    page.locator("a[href*='/loops/reports/20']").first.click()
    page.get_by_test_id("report-regenerate").click()  # the action was created after the demo's report
    new_actions = page.get_by_test_id("report-new_actions")
    row = new_actions.get_by_test_id("report-action").filter(has_text=number)
    row.get_by_test_id("claim-button").click()

    # then the report shows the claim, the new, overdue and verified actions and the high risks
    page.get_by_test_id("report-regenerate").click()
    claims = page.get_by_test_id("report-claims")
    expect(claims).to_contain_text(number)
    expect(page.get_by_test_id("report-new_actions")).to_contain_text(number)
    expect(page.get_by_test_id("report-overdue_actions")).to_contain_text("袖带漏气")
    expect(page.get_by_test_id("report-verified_actions")).to_contain_text("运输包装破损")
    expect(page.get_by_test_id("report-high_risks")).to_contain_text("差评率")
    screenshot(page, "loop-report")
    pdf = page.request.get(page.get_by_test_id("report-pdf").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
