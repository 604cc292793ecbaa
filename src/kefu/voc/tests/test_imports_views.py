"""Review import pages and the review list: upload → preview → confirm → report; filters, export."""
# ruff: noqa: F811  (fixtures imported from fixtures_imports)

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from kefu.voc.models import Review, ReviewImport, ReviewTicketRule
from kefu.voc.tests.fixtures_imports import (  # noqa: F401  (fixtures)
    agent,
    manager,
    product,
    review_row,
    run_upload,
    shop,
    team,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(manager):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(manager)
    return c


def test_upload_preview_confirm_and_report(browser, shop, product, django_capture_on_commit_callbacks):
    # given a JD export with one bad row
    upload = xlsx_upload([review_row(1, stars=1, text="噪音大"), review_row(2), review_row(3, when="昨天")])
    # when the manager uploads it
    response = browser.post(reverse("voc:import_new"), {"shop": shop.pk, "file": upload})
    imp = ReviewImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("voc:import_detail", args=[imp.pk])
    # then the preview shows the mapping pre-chosen and the rows as they will be imported
    page = browser.get(response["Location"]).content.decode()
    assert 'data-testid="col-content"' in page and '<option value="评价内容" selected>' in page
    assert page.count('data-testid="preview-row"') == 2 and "KY-5W" in page
    assert page.count('data-testid="preview-error"') == 1 and "昨天" in page
    # when a select changes, the preview is re-rendered with the new mapping (htmx)
    partial = browser.get(
        reverse("voc:import_preview", args=[imp.pk]),
        {"col_reviewed_at": "评价时间", "col_rating": "评价星级"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "噪音大" not in partial and partial.count('data-testid="preview-row"') == 2
    # when "Import" is pressed (the worker runs on commit)
    form = {f"col_{f}": h for f, h in imp.columns.items()}
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(reverse("voc:import_confirm", args=[imp.pk]), form)
    assert done.status_code == 302
    # then the page shows the report with counts and the skipped row's reason
    report = browser.get(done["Location"]).content.decode()
    assert 'data-testid="count-created">2<' in report
    assert 'data-testid="count-skipped">1<' in report
    assert "评价时间: &#x27;昨天&#x27; is not a date and time" in report
    assert Review.objects.count() == 2


def test_progress_partial_while_running(browser, manager, shop):
    from kefu.voc.services import reviews as review_services

    imp = review_services.create_import(
        actor=manager, shop_id=shop.pk, uploaded_file=xlsx_upload([review_row(1)])
    )
    ReviewImport.objects.filter(pk=imp.pk).update(status="running", total_rows=10, processed_rows=4)
    page = browser.get(reverse("voc:import_detail", args=[imp.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="4"' in page
    ReviewImport.objects.filter(pk=imp.pk).update(status="done")
    partial = browser.get(reverse("voc:import_progress", args=[imp.pk]), HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true"


def test_bad_upload_is_refused_with_a_message(browser, shop):
    response = browser.post(
        reverse("voc:import_new"), {"shop": shop.pk, "file": io.BytesIO(b"\x89PNG\r\n\x00\x00")}
    )
    assert response.status_code == 415
    assert 'data-testid="import-error"' in response.content.decode()
    assert not ReviewImport.objects.exists()


def test_agent_may_view_reviews_but_not_import(agent, shop):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(agent)
    assert c.get(reverse("voc:review_list")).status_code == 200
    assert c.get(reverse("voc:import_new")).status_code == 403
    assert c.get(reverse("voc:rules")).status_code == 403


def test_review_list_filters_and_export(browser, run_upload, shop):
    # given three reviews in the week of Monday 2026-11-16 (Shanghai) and one the week before
    run_upload(
        xlsx_upload(
            [
                review_row(1, stars=1, text="制氧机声音大", when="2026-11-16 00:30"),
                review_row(2, stars=2, text="太吵了", when="2026-11-22 23:50"),
                review_row(3, stars=5, text="很好", when="2026-11-18 10:00"),
                review_row(4, stars=1, text="上周的差评", when="2026-11-15 23:59"),
            ]
        )
    )
    # when the 差评率 chart's drill-down link is opened
    url = reverse("voc:review_list") + f"?shop={shop.pk}&level=bad&week=2026-11-16"
    page = browser.get(url).content.decode()
    # then exactly that week's bad reviews are listed
    assert page.count('data-testid="review-row"') == 2
    assert "制氧机声音大" in page and "太吵了" in page and "上周的差评" not in page
    # and the text filter narrows further
    assert browser.get(url + "&q=吵").content.decode().count('data-testid="review-row"') == 1
    # when exported as XLSX, the file holds the same rows
    response = browser.get(url + "&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[5] for r in rows[1:]} == {"制氧机声音大", "太吵了"}
    assert browser.get(url + "&format=csv")["Content-Type"].startswith("text/csv")
    # and a bad filter is a 422 with a message, not a 500
    assert browser.get(reverse("voc:review_list") + "?since=yesterday").status_code == 422


def test_rules_page_saves_the_default_rule(browser, team):
    page = browser.get(reverse("voc:rules"))
    assert page.status_code == 200 and 'data-testid="rule-row-default"' in page.content.decode()
    response = browser.post(
        reverse("voc:rules"), {"shop": "default", "team": team.pk, "on_bad": "1", "is_active": "1"}
    )
    assert response.status_code == 302
    rule = ReviewTicketRule.objects.get(shop=None)
    assert (rule.team, rule.on_bad, rule.on_neutral, rule.is_active) == (team, True, False, True)
    bad = browser.post(reverse("voc:rules"), {"shop": "default", "team": ""})
    assert bad.status_code == 422
