"""The weekly VoC report: the data of a hand-made week (top insights, 差评率, new/overdue actions by
department, verified/not effective, high risks, claims), idempotent regeneration, the PDF, the Monday
mail through a real SMTP server, the claim button, the pages and the API."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from kefu.accounts.tests.factories import DepartmentFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.customers.models import Product, Shop
from kefu.loops.models import ImprovementAction, LoopSettings, Risk, WeeklyReport
from kefu.loops.report_tasks import weekly_report_task
from kefu.loops.services.report_pdf import report_pdf
from kefu.loops.services.reports import generate_weekly_report
from kefu.notifications.email_url import parse_email_url
from kefu.notifications.tests.conftest import SMTP_USER, smtp_server  # noqa: F401  (the fixture)
from kefu.voc.models import Insight, InsightItem
from kefu.voc.tests.test_dashboards import reviews
from kefu.voc.tests.test_insights import NOW, THIS_MONDAY, item, week

pytestmark = pytest.mark.django_db

WEEK = date(2026, 11, 16)  # the reported week: the one before NOW's (Wednesday 2026-11-25)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def supervisor():
    return UserFactory(role="supervisor", display_name="王主管")


@pytest.fixture
def executive():
    return UserFactory(role="executive", display_name="张总")


@pytest.fixture
def agent():
    return UserFactory(role="agent")


def web(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def insight(title, counts, product=None):
    """An insight with counts[i] items in the week i weeks before this one (0: this week)."""
    at = NOW
    obj = Insight.objects.create(
        key=title, title=title, product=product, first_seen=at, last_seen=at, computed_at=at
    )
    for n_ago, n in enumerate(counts):
        for k in range(n):
            InsightItem.objects.create(insight=obj, item=item(title, week(n_ago, day=k % 7, hour=k % 12)))
    return obj


_n = iter(range(1, 10000))


def action(dept, *, status="accepted", created=None, **kw):
    created = created or week(1)
    a = ImprovementAction.objects.create(
        number=f"IA{next(_n):05d}",
        title=kw.pop("title", "改善"),
        problem="问题",
        department=dept,
        status=status,
        created_at=created,
        updated_at=created,
        **kw,
    )
    return a


@pytest.fixture
def world(supervisor, executive):
    """The hand-made week 2026-11-16 … 11-22 and its neighbours."""
    oxy = Product.objects.create(model_number="KY-5W", name="制氧机")
    bp = Product.objects.create(model_number="BP-620", name="血压计")
    jd = Shop.objects.create(code="jd-t", name="京东店", platform="jd")
    tmall = Shop.objects.create(code="tm-t", name="天猫店", platform="tmall")
    # 差评率: JD 2/10 (制氧机) and Tmall 1/4 (血压计) in the week; JD 1/10 the week before; this week
    # (not reported) JD 5 差评; a 差评 at Sunday 23:30 of the week counts, Monday 00:30 after does not
    reviews(jd, week(1), 8, 2, oxy)
    reviews(tmall, week(1), 3, 0, bp)
    reviews(tmall, THIS_MONDAY - timedelta(minutes=30), 0, 1, bp)
    reviews(jd, week(2), 9, 1, oxy)
    reviews(jd, week(0), 0, 5, oxy)
    # insights: 噪音 6 in the week after 1 a week before (growth 5); 不准 8 after 6 a week (growth 2);
    # 物流慢 only this week
    noise = insight("制氧机噪音", [0, 6] + [1] * 8, oxy)
    wrong = insight("血压计不准", [0, 8] + [6] * 8, bp)
    insight("物流慢", [4])
    logistics = DepartmentFactory(name="物流部")
    product = DepartmentFactory(name="产品部")
    a = {
        "new_ok": action(logistics, title="新-按期", committed_date=date(2026, 12, 1)),
        "new_late": action(product, status="proposed", title="新-未承诺", commit_deadline=week(1, day=3)),
        "old_late": action(
            logistics,
            status="in_progress",
            title="旧-逾期",
            created=week(4),
            committed_date=date(2026, 11, 20),
            claimed_by=executive,
            claimed_at=week(1, day=4),
        ),
        "old_ok": action(
            logistics,
            status="in_progress",
            title="旧-未到期",
            created=week(4),
            committed_date=date(2026, 11, 24),
        ),
        "done": action(
            product, status="implemented", title="已实施", created=week(4), committed_date=date(2026, 11, 10)
        ),
        "verified": action(
            product, status="verified", title="已验证", created=week(6), verified_at=week(1, day=2)
        ),
        "not_effective": action(
            logistics, status="not_effective", title="无效", created=week(6), verified_at=week(1, day=5)
        ),
        "verified_now": action(
            product, status="verified", title="本周验证", created=week(6), verified_at=week(0)
        ),
        "this_week": action(product, title="本周新建", created=week(0)),
    }
    risks = {
        "high": Risk.objects.create(
            title="大促爆仓", type="management", likelihood=4, impact=4, created_at=NOW, updated_at=NOW
        ),
        "closed": Risk.objects.create(
            title="已关闭",
            type="system",
            likelihood=5,
            impact=5,
            status="closed",
            created_at=NOW,
            updated_at=NOW,
        ),
        "medium": Risk.objects.create(
            title="中等", type="brand", likelihood=3, impact=3, created_at=NOW, updated_at=NOW
        ),
    }
    return {
        "oxy": oxy,
        "bp": bp,
        "jd": jd,
        "tmall": tmall,
        "noise": noise,
        "wrong": wrong,
        "actions": a,
        "risks": risks,
        "logistics": logistics,
        "product": product,
    }


def titles(rows):
    return [r["title"] for r in rows]


# --- the data --------------------------------------------------------------------------------------


def test_report_data_of_a_hand_made_week(world, supervisor, executive):
    # when the report of the week is generated
    report = generate_weekly_report(week_start=WEEK, actor=supervisor)
    d = report.data
    # then the week is Monday to Sunday with nine weeks of trend
    assert (d["week_start"], d["week_end"]) == ("2026-11-16", "2026-11-22")
    assert d["weeks"][0] == "2026-09-21" and d["weeks"][-1] == "2026-11-16" and len(d["weeks"]) == 9
    # top insights by volume and by growth over the trailing eight weeks' mean
    assert [(r["title"], r["count"], r["baseline"]) for r in d["insights_by_volume"]] == [
        ("血压计不准", 8, 6.0),
        ("制氧机噪音", 6, 1.0),
    ]
    assert [(r["title"], r["growth"]) for r in d["insights_by_growth"]] == [
        ("制氧机噪音", 5.0),
        ("血压计不准", 2.0),
    ]
    # 差评率 by product and shop for the week, with the trend (the week before last: JD 10%)
    oxy = next(r for r in d["bad_rate_by_product"] if r["id"] == world["oxy"].pk)
    bp = next(r for r in d["bad_rate_by_product"] if r["id"] == world["bp"].pk)
    assert (oxy["bad"], oxy["total"], oxy["rate"]) == (2, 10, 0.2)
    assert (bp["bad"], bp["total"], bp["rate"]) == (1, 4, 0.25)
    assert oxy["trend"][-2:] == [0.1, 0.2] and oxy["trend"][0] is None
    shops = {r["name"]: r for r in d["bad_rate_by_shop"]}
    assert (shops["京东店"]["rate"], shops["天猫店"]["rate"]) == (0.2, 0.25)
    assert shops["京东店"]["trend"][-2:] == [0.1, 0.2]
    # new and overdue actions by department
    assert titles(d["new_actions"]) == ["新-按期", "新-未承诺"]
    assert titles(d["overdue_actions"]) == ["新-未承诺", "旧-逾期"]
    assert {x["name"]: (x["new"], x["overdue"]) for x in d["departments"]} == {
        "物流部": (1, 1),
        "产品部": (1, 1),
    }
    # verified or found not effective during the week
    assert titles(d["verified_actions"]) == ["已验证"]
    assert titles(d["not_effective_actions"]) == ["无效"]
    # open high risks only
    assert [(r["title"], r["score"]) for r in d["high_risks"]] == [("大促爆仓", 16)]
    # claims with who and when
    assert [(c["title"], c["claimed_by"], c["claimed_by_id"]) for c in d["claims"]] == [
        ("旧-逾期", "张总", executive.pk)
    ]
    assert d["claims"][0]["claimed_at"].startswith("2026-11-2")
    # and the generation is audited
    event = AuditEvent.objects.get(verb="loops.report_generated")
    assert event.data == {"week": "2026-11-16", "report_id": report.pk, "regenerated": False}


def test_regenerating_replaces_the_data_and_defaults_to_the_previous_week(world, supervisor):
    # given the report of the previous week (the default)
    first = generate_weekly_report(actor=supervisor)
    assert first.week_start == WEEK
    # when a high risk is added and the report regenerated
    Risk.objects.create(
        title="新高风险", type="brand", likelihood=5, impact=3, created_at=NOW, updated_at=NOW
    )
    second = generate_weekly_report(week_start="2026-11-16", actor=supervisor)
    # then there is still one report for the week, with the new data
    assert WeeklyReport.objects.count() == 1 and second.pk == first.pk
    assert titles(second.data["high_risks"]) == ["大促爆仓", "新高风险"]
    assert list(
        AuditEvent.objects.filter(verb="loops.report_generated")
        .order_by("id")
        .values_list("data__regenerated", flat=True)
    ) == [
        False,
        True,
    ]


@pytest.mark.parametrize("week_start", ["2026-11-17", "2026-11-30", "16/11/2026", 5])
def test_a_bad_week_is_refused_naming_the_field(supervisor, week_start):
    with pytest.raises(ValidationFailed) as err:
        generate_weekly_report(week_start=week_start, actor=supervisor)
    assert err.value.field == "week_start"
    assert not WeeklyReport.objects.exists()


def test_agents_may_not_generate(agent):
    with pytest.raises(PermissionDenied):
        generate_weekly_report(actor=agent)


# --- PDF and mail ----------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's page content, decompressed, with string escapes undone (text is UTF-16-BE)."""
    out = b""
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        raw = m.group(1).strip()
        try:
            out += zlib.decompress(base64.a85decode(raw.removesuffix(b"~>")))
        except (ValueError, zlib.error):
            continue
    out = re.sub(rb"\\([0-7]{3})", lambda g: bytes([int(g.group(1), 8)]), out)
    return re.sub(rb"\\(.)", rb"\1", out)


def has_text(pdf: bytes, text: str) -> bool:
    return text.encode("utf-16-be") in pdf_text(pdf)


def test_pdf_has_the_report_in_chinese_and_english(world, supervisor):
    report = generate_weekly_report(week_start=WEEK, actor=supervisor)
    pdf = report_pdf(report)
    assert pdf.startswith(b"%PDF")
    assert has_text(pdf, "制氧机噪音") and has_text(pdf, "大促爆仓") and has_text(pdf, "张总")


def test_monday_job_emails_the_report_with_the_pdf(world, smtp_server, settings):  # noqa: F811
    # given a real SMTP server and two recipients (and a line that is not an address)
    sink, port = smtp_server
    settings.MAILERS = {"default": parse_email_url(f"smtp://{SMTP_USER}:s3cr%40t@127.0.0.1:{port}")}
    loop = LoopSettings.load()
    loop.report_recipients = "ceo@example.com\n not an address\n\ncoo@example.com\n"
    loop.save()
    # the job runs Mondays at 00:00 UTC, which is 08:00 in Beijing
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert weekly_report_task.s().validate_datetime(monday.replace(tzinfo=None))
    assert not weekly_report_task.s().validate_datetime(datetime(2026, 11, 23, 8, 0))
    assert not weekly_report_task.s().validate_datetime(datetime(2026, 11, 24, 0, 0))
    # when it runs on Monday morning, twice
    with time_machine.travel(monday, tick=False):
        weekly_report_task.call_local()
        weekly_report_task.call_local()
    # then last week's report was generated and mailed once, HTML body and PDF attached
    report = WeeklyReport.objects.get()
    assert report.week_start == WEEK and report.emailed_at == monday
    assert len(sink.messages) == 1
    msg = sink.messages[0]
    assert sorted(sink.envelopes[0].rcpt_tos) == ["ceo@example.com", "coo@example.com"]
    assert "2026-11-16" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    assert "制氧机噪音" in html and "大促爆仓" in html and "/loops/reports/2026-11-16/" in html
    assert 'data-testid="claim-button"' not in html
    pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_content().startswith(b"%PDF")


# --- claim, pages, API -----------------------------------------------------------------------------


def test_claim_button_claims_and_the_claim_shows_on_regeneration(world, supervisor, executive, agent):
    generate_weekly_report(week_start=WEEK, actor=supervisor)
    target = world["actions"]["new_late"]
    url = "/loops/reports/2026-11-16/"
    # given an executive on the report: unclaimed actions have a claim button
    html = web(executive).get(url).content.decode()
    assert f'action="/loops/reports/2026-11-16/claim/{target.pk}/"' in html
    assert 'data-testid="claim-button"' not in web(agent).get(url).content.decode()
    # when they claim one
    r = web(executive).post(f"/loops/reports/2026-11-16/claim/{target.pk}/")
    assert r.status_code == 302 and r["Location"] == f"{url}#action-{target.pk}"
    # then the action is claimed (through the service: audited) and the page shows it at once
    target.refresh_from_db()
    assert target.claimed_by == executive and target.claimed_at == NOW
    assert AuditEvent.objects.filter(verb="loops.action_claimed", subject_id=target.pk).exists()
    html = web(executive).get(url).content.decode()
    assert f'action="/loops/reports/2026-11-16/claim/{target.pk}/"' not in html
    # and a regenerated report lists the claim
    report = generate_weekly_report(week_start=WEEK, actor=supervisor)
    assert ("新-未承诺", "张总") in [(c["title"], c["claimed_by"]) for c in report.data["claims"]]
    # others may not claim
    assert web(agent).post(f"/loops/reports/2026-11-16/claim/{target.pk}/").status_code == 403


def test_pages(world, supervisor, agent):
    # a supervisor generates the report from the list page
    c = web(supervisor)
    assert 'data-testid="report-generate"' in c.get("/loops/reports/").content.decode()
    r = c.post("/loops/reports/generate/", {"week_start": "2026-11-16"})
    assert r.status_code == 302 and r["Location"] == "/loops/reports/2026-11-16/"
    r = c.post("/loops/reports/generate/", {"week_start": "2026-11-18"})
    assert r.status_code == 422 and "A week starts on a Monday." in r.content.decode()
    # an agent reads the list and the report, without the generate button
    html = web(agent).get("/loops/reports/").content.decode()
    assert html.count('data-testid="report-row"') == 1 and 'data-testid="report-generate"' not in html
    assert web(agent).post("/loops/reports/generate/").status_code == 403
    page = web(agent).get("/loops/reports/2026-11-16/")
    html = page.content.decode()
    assert page.status_code == 200 and "Weekly voice of customer, 2026-11-16 to 2026-11-22" in html
    assert html.count('data-testid="report-insight"') == 4 and "20.0%" in html and "25.0%" in html
    assert 'data-testid="report-trend-chart"' in html and 'id="kf-report-trend"' in html
    pdf = web(agent).get("/loops/reports/2026-11-16.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert web(agent).get("/loops/reports/2026-11-09/").status_code == 404


def test_api(world, api, supervisor, agent):
    # generate, list, read
    r = api(supervisor).post("loops/reports", {"week_start": "2026-11-16"})
    assert r.status_code == 201, r.content
    assert r.json()["pdf_url"] == "/loops/reports/2026-11-16.pdf"
    assert titles(r.json()["data"]["high_risks"]) == ["大促爆仓"]
    listing = api(agent).get("loops/reports").json()
    assert listing["count"] == 1 and listing["items"][0]["week_start"] == "2026-11-16"
    one = api(agent).get("loops/reports/2026-11-16")
    assert one.status_code == 200 and one.json()["data"]["week_end"] == "2026-11-22"
    # errors: 404 unknown week, 422 naming the field, 403 for agents generating
    assert api(agent).get("loops/reports/2026-11-09").status_code == 404
    assert api(agent).get("loops/reports/nonsense").status_code == 404
    r = api(supervisor).post("loops/reports", {"week_start": "2026-11-17"})
    assert r.status_code == 422 and r.json()["field"] == "week_start"
    assert api(agent).post("loops/reports", {}).status_code == 403


def test_report_page_query_count_is_bounded(world, supervisor, executive, django_assert_max_num_queries):
    generate_weekly_report(week_start=WEEK, actor=supervisor)
    c = web(executive)
    with django_assert_max_num_queries(10):
        assert c.get("/loops/reports/2026-11-16/").status_code == 200


def test_the_week_in_progress_counts_as_overdue_only_what_is_overdue_now(supervisor):
    # given (on Wednesday) an action created this week whose commit deadline is on Friday, and one
    # whose committed date was yesterday
    dept = DepartmentFactory(name="品控测试")
    waiting = action(dept, status="proposed", created=NOW, commit_deadline=NOW + timedelta(days=2))
    late = action(dept, created=NOW, committed_date=NOW.date() - timedelta(days=1))
    # when this week's report is generated
    report = generate_weekly_report(actor=supervisor, week_start=WEEK + timedelta(days=7))
    # then only the late one is overdue; both are new
    assert [a["id"] for a in report.data["overdue_actions"]] == [late.pk]
    assert {a["id"] for a in report.data["new_actions"]} == {waiting.pk, late.pk}
