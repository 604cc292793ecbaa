"""The voice-of-customer dashboard: 差评率 by shop/week and per shop/product, the cause Pareto, the
touchpoint heat map, drill-down links carrying the right filters, and exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client

from kefu.accounts.tests.factories import UserFactory
from kefu.customers.models import Product, Shop
from kefu.voc.models import Review
from kefu.voc.selectors import dashboards as sel
from kefu.voc.tests.test_insights import NOW, SH, THIS_MONDAY, chart_data, item, node, week

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    return UserFactory(role="agent")


@pytest.fixture
def shops():
    return {
        "jd": Shop.objects.create(code="jd-t", name="京东店", platform="jd"),
        "tmall": Shop.objects.create(code="tm-t", name="天猫店", platform="tmall"),
    }


@pytest.fixture
def products():
    return {
        "oxy": Product.objects.create(model_number="KY-5W", name="制氧机"),
        "bp": Product.objects.create(model_number="BP-620", name="血压计"),
    }


_n = iter(range(1, 100000))


def reviews(shop, at, good, bad, product=None):
    for level, count in (("good", good), ("bad", bad)):
        for _ in range(count):
            Review.objects.create(
                shop=shop, platform=shop.platform, dedup_key=f"d{next(_n)}", level=level,
                rating=5 if level == "good" else 1, reviewed_at=at, product=product,
                created_at=at, updated_at=at,
            )  # fmt: skip


@pytest.fixture
def rated(shops, products):
    """JD: last week 8 good + 2 bad (制氧机), this week 5 good (血压计); Tmall: this week 3 good + 1 bad
    (制氧机), one of them at Monday 00:30 local time (still this week), one on Sunday 23:30 (last week)."""
    reviews(shops["jd"], week(1), 8, 2, products["oxy"])
    reviews(shops["jd"], week(0), 5, 0, products["bp"])
    reviews(shops["tmall"], THIS_MONDAY + timedelta(minutes=30), 2, 1, products["oxy"])
    reviews(shops["tmall"], week(0), 1, 0, products["oxy"])
    reviews(shops["tmall"], THIS_MONDAY - timedelta(minutes=30), 0, 1, products["oxy"])


def get(user, path, **params):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return c.get(path, params)


def query(url):
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


class TestBadReviewRate:
    def test_by_shop_and_week_in_local_weeks(self, viewer, shops, rated):
        with time_machine.travel(NOW, tick=False):
            rows = sel.bad_review_rate_by_shop(actor=viewer, p=sel.period(8))
        by_name = {r.name: r for r in rows}
        jd, tmall = by_name["京东店"], by_name["天猫店"]
        last, this = THIS_MONDAY.date() - timedelta(weeks=1), THIS_MONDAY.date()
        assert jd.weeks == {last: (2, 10), this: (0, 5)} and (jd.bad, jd.total) == (2, 15)
        assert tmall.weeks == {last: (1, 1), this: (1, 4)} and tmall.rate == pytest.approx(2 / 5)

    def test_by_product(self, viewer, shops, products, rated):
        with time_machine.travel(NOW, tick=False):
            rows = sel.bad_review_rate_by_product(actor=viewer, p=sel.period(8), shop_id=shops["jd"].pk)
        assert [(r.name, r.bad, r.total) for r in rows] == [("制氧机 KY-5W", 2, 10), ("血压计 BP-620", 0, 5)]

    def test_the_page_chart_points_and_cells_link_to_the_reviews(self, viewer, shops, products, rated):
        r = get(viewer, "/voc/")
        assert r.status_code == 200
        html = r.content.decode()
        chart = chart_data(html, "kf-chart-rate")
        assert len(chart["weeks"]) == 8 and chart["weeks"][-1] == "2026-11-23"
        jd = next(s for s in chart["series"] if s["name"] == "京东店")
        assert [p["value"] for p in jd["data"][-2:]] == [20.0, 0.0] and jd["data"][0]["value"] is None
        path, params = query(jd["data"][-2]["url"])
        assert path == "/voc/reviews/"
        assert params == {"shop": str(shops["jd"].pk), "level": "bad", "week": "2026-11-16"}
        # the table: 2 of 15 for JD, each cell links to the reviews behind it
        assert 'data-testid="rate-by-shop"' in html and "13.3%" in html
        assert f"level=bad&amp;since=2026-10-05&amp;until=2026-11-25&amp;shop={shops['jd'].pk}" in html
        assert f"until=2026-11-25&amp;product={products['bp'].pk}" in html

    def test_filters_and_bad_filters(self, viewer, shops, rated):
        r = get(viewer, "/voc/", shop=shops["tmall"].pk, period=13)
        chart = chart_data(r.content.decode(), "kf-chart-rate")
        assert [s["name"] for s in chart["series"]] == ["天猫店"] and len(chart["weeks"]) == 13
        r = get(viewer, "/voc/", period=5)
        assert r.status_code == 400 and b'data-testid="dashboard-error"' in r.content
        assert get(viewer, "/voc/", shop="x").status_code == 400


@pytest.fixture
def causes():
    a = node("cause", "产品")
    return {"A": a, "a1": node("cause", "质量", a), "B": node("cause", "物流")}


class TestPareto:
    def test_order_and_cumulative_share(self, viewer, causes):
        # given 3 items on a sub-cause of 产品 and 1 on 产品 itself, 2 on 物流, 1 without cause, 1 positive
        for _ in range(3):
            item("坏了", week(0), cause=causes["a1"])
        item("质量差", week(1), cause=causes["A"])
        item("物流慢", week(0), cause=causes["B"])
        item("物流慢", week(2), cause=causes["B"])
        item("不满意", week(0))
        item("很好", week(0), cause=causes["B"], polarity="positive")
        with time_machine.travel(NOW, tick=False):
            bars = sel.cause_pareto(actor=viewer, p=sel.period(8))
        assert [(b.name, b.count) for b in bars] == [("产品", 4), ("物流", 2), ("", 1)]
        assert [round(b.cumulative, 3) for b in bars] == [round(4 / 7, 3), round(6 / 7, 3), 1.0]
        # and on the page each bar links to the negative feedback of that cause in the period
        chart = chart_data(get(viewer, "/voc/").content.decode(), "kf-chart-pareto")
        assert chart["labels"][:2] == ["产品", "物流"] and chart["cumulative"] == [57.1, 85.7, 100.0]
        path, params = query(chart["counts"][0]["url"])
        assert path == "/voc/feedback/"
        assert params == {
            "cause": str(causes["A"].pk),
            "polarity": "negative",
            "since": "2026-10-05",
            "until": "2026-11-25",
        }
        assert chart["counts"][2]["url"] == ""  # no cause: nothing to filter on


class TestHeatmap:
    def test_level_two_touchpoints_by_week(self, viewer):
        use = node("touchpoint", "使用维护")
        product_use = node("touchpoint", "产品使用", use)
        noise = node("touchpoint", "噪音", product_use)
        delivery = node("touchpoint", "物流配送", node("touchpoint", "配送安装"))
        item("吵", week(0), touchpoint=noise)
        item("吵", week(0), touchpoint=noise)
        item("不好用", week(1), touchpoint=product_use)
        item("挺好", week(0), touchpoint=noise, polarity="positive")
        item("广告", week(0), touchpoint=use)  # level 1: not on the map
        with time_machine.travel(NOW, tick=False):
            rows = sel.touchpoint_heatmap(actor=viewer, p=sel.period(8))
        assert [(r.name, r.counts[-2:]) for r in rows] == [("产品使用", [1, 2]), ("物流配送", [0, 0])]
        chart = chart_data(get(viewer, "/voc/").content.decode(), "kf-chart-heatmap")
        cell = next(c for c in chart["cells"] if c["value"] == [7, 0, 2])
        path, params = query(cell["url"])
        assert path == "/voc/feedback/"
        assert params == {"polarity": "negative", "touchpoint": str(product_use.pk), "week": "2026-11-23"}
        assert chart["rows"] == ["使用维护 / 产品使用", "配送安装 / 物流配送"] and chart["max"] == 2
        assert delivery.level == 2


class TestExportAndAccess:
    def test_tables_export_as_csv_and_xlsx(self, viewer, shops, rated):
        r = get(viewer, "/voc/dashboard/export/shops/", format="csv")
        assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][0] == "Shop" and ["京东店", "15", "2", "0.1333"] in rows
        r = get(viewer, "/voc/dashboard/export/products/", format="xlsx")
        assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
        assert get(viewer, "/voc/dashboard/export/causes/", format="csv").status_code == 200
        assert get(viewer, "/voc/dashboard/export/touchpoints/", format="csv").status_code == 200
        assert get(viewer, "/voc/dashboard/export/nope/").status_code == 400
        r = get(viewer, "/voc/dashboard/export/shops/", period="x")
        assert r.status_code == 400 and b"period" in r.content

    def test_the_top_insights_and_sign_in(self, viewer):
        r = get(viewer, "/voc/")
        assert r.status_code == 200 and b"No insights yet." in r.content
        assert Client().get("/voc/").status_code == 302

    def test_period_is_local_weeks(self):
        with time_machine.travel(datetime(2026, 11, 23, 0, 30, tzinfo=SH), tick=False):
            p = sel.period(8)
        assert p.mondays[-1].isoformat() == "2026-11-23" and p.since.isoformat() == "2026-10-05"
