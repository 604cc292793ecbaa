"""The issue's "done when" for voice of customer, on the demo: a manager uploads a JD review export,
previews the column mapping, imports it (a second import of the same file adds nothing), sees negative
reviews classified by cause with sentiment, corrects a few labels and the retrained model's accuracy
appears, opens the top insight (制氧机 noise on JD rising this week) with its trend and examples, and
drills from the 差评率 figures to the reviews behind it. The worker runs the import and the training."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import SERVER_ENV, screenshot, signed_in

JOB_TIMEOUT = 90_000  # ms: the worker polls its queue every few seconds


def upload_jd_export(page) -> None:
    page.goto("/voc/imports/new/")
    jd = page.locator("#kf-import-shop option", has_text="京东").first.get_attribute("value")
    page.select_option("#kf-import-shop", value=jd)
    export = Path(SERVER_ENV["KEFU_DATA_DIR"]) / "demo" / "jd-reviews.xlsx"
    page.set_input_files("#kf-import-file", str(export))
    page.get_by_test_id("import-form").locator("button[type=submit]").click()


def test_manager_imports_reviews_corrects_labels_and_follows_the_top_insight(page, worker):
    # given the e-commerce supervisor, a manager of the JD shop
    signed_in(page, "supervisor2", "/voc/")

    # when they upload the JD export, the column mapping is previewed with the parsed rows
    upload_jd_export(page)
    expect(page.get_by_test_id("import-preview")).to_be_visible()
    expect(page.get_by_test_id("preview-row").first).to_be_visible()
    expect(page.get_by_test_id("col-reviewed_at")).to_have_value("评价时间")
    expect(page.get_by_test_id("col-content")).to_have_value("评价内容")
    screenshot(page, "voc-import-preview")

    # when they import it, the worker imports it and the report counts new and skipped rows
    page.get_by_test_id("import-confirm").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible(timeout=JOB_TIMEOUT)
    created = int(page.get_by_test_id("count-created").inner_text())
    assert created > 40
    expect(page.get_by_test_id("count-skipped")).to_have_text("2")
    expect(page.get_by_test_id("skipped-row")).to_have_count(2)
    screenshot(page, "voc-import-report")

    # when the same file is imported again, nothing is added
    upload_jd_export(page)
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-report")).to_be_visible(timeout=JOB_TIMEOUT)
    expect(page.get_by_test_id("count-created")).to_have_text("0")
    expect(page.get_by_test_id("count-duplicates")).to_have_text(str(created))

    # then the negative reviews are listed with a cause and a sentiment
    page.goto("/voc/feedback/?source=review&polarity=negative&q=客服")
    rows = page.get_by_test_id("feedback-row")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator(".badge.text-bg-danger")).to_be_visible()  # negative sentiment
    expect(rows.first).to_contain_text("服务")

    # when they correct the cause of a few of them (an unsolved problem is the agents' competence)
    for url in _row_links(page, 3):
        page.goto(url)
        form = page.get_by_test_id("label-form")
        option = form.locator("#kf-label-cause option", has_text="专业能力").first
        form.locator("#kf-label-cause").select_option(value=option.get_attribute("value"))
        form.get_by_test_id("save-labels").click()
        expect(page.get_by_test_id("label-cause")).to_contain_text("专业能力")
    screenshot(page, "voc-feedback-labelled")

    # and retrain the cause model, a new version appears with its held-out accuracy,
    # trained on their corrections too
    page.goto("/voc/models/")
    cause = page.get_by_test_id("model-kind-cause")
    expect(cause.get_by_test_id("model-version").first).not_to_contain_text("专业能力")
    before = cause.get_by_test_id("model-version").count()
    cause.get_by_test_id("retrain-cause").click()
    _wait_for_versions(page, before + 1)
    newest = page.get_by_test_id("model-kind-cause").get_by_test_id("model-version").first
    expect(newest.get_by_test_id("model-accuracy")).to_have_text(re.compile(r"^[01]\.\d{3}$"))
    expect(newest).to_contain_text("专业能力")  # the class they taught it, with its top terms
    screenshot(page, "voc-models")

    # when they open the top insight, it is the oxygen concentrator's noise, rising this week
    page.goto("/voc/insights/")
    top = page.get_by_test_id("insight-row").first
    expect(top).to_contain_text("噪音")
    expect(top.get_by_test_id("spike-badge")).to_be_visible()
    top.locator("a").first.click()
    expect(page.get_by_test_id("insight-title")).to_contain_text("制氧机")
    expect(page.get_by_test_id("chart-trend").locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("example-link").first).to_contain_text("噪音")
    screenshot(page, "voc-insight")

    # when they drill from the 差评率 table of the dashboard into the JD shop's negative reviews
    page.goto("/voc/")
    expect(page.get_by_test_id("chart-rate").locator("canvas")).to_be_visible()
    jd_row = page.get_by_test_id("rate-by-shop-row").filter(has_text="京东").first
    jd_row.get_by_test_id("rate-by-shop-link").click()
    # then they see exactly the negative reviews behind the figure
    expect(page).to_have_url(re.compile(r"/voc/reviews/\?.*level=bad"))
    reviews = page.get_by_test_id("review-row")
    expect(reviews.first).to_be_visible()
    assert set(reviews.evaluate_all("rs => rs.map(r => r.dataset.level)")) == {"bad"}
    screenshot(page, "voc-drill-down")


def _row_links(page, n: int) -> list[str]:
    links = page.get_by_test_id("feedback-row").locator("a[href*='/voc/feedback/']")
    return [links.nth(i).get_attribute("href") for i in range(min(n, links.count()))]


def _wait_for_versions(page, count: int) -> None:
    """Reload the models page until the cause model has `count` versions and none is training."""
    for _ in range(60):
        cause = page.get_by_test_id("model-kind-cause")
        if (
            cause.get_by_test_id("model-version").count() >= count
            and not cause.get_by_test_id("retrain-cause").is_disabled()
        ):
            return
        page.wait_for_timeout(1500)
        page.reload()
    raise AssertionError("the retrained cause model did not appear")
