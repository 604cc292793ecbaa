"""Insights: grouping negative feedback by product, cause and key phrase; spikes flagged for a real
jump and not for noise; stable keys and kept status across recomputation; API, pages and demo.

Feedback items are scenery here (polarity and cause set directly), not what the text models say."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.models import Product, Shop
from kefu.voc.models import FeedbackItem, Insight, InsightItem, Review, TaxonomyNode
from kefu.voc.services import insights_stats as stats
from kefu.voc.services.insights import compute_insights, set_insight_status

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=SH)  # a Wednesday; this week starts Monday 2026-11-23
THIS_MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=SH)
_seq = itertools.count(1)


def week(n_ago: int, day: int = 1, hour: int = 10) -> datetime:
    """A time in the week `n_ago` weeks before this one (0: this week; day 0 = Monday)."""
    return THIS_MONDAY - timedelta(weeks=n_ago) + timedelta(days=day, hours=hour)


def node(kind: str, name: str, parent: TaxonomyNode | None = None) -> TaxonomyNode:
    return TaxonomyNode.objects.create(
        kind=kind,
        name=name,
        parent=parent,
        level=(parent.level + 1) if parent else 1,
        created_at=NOW,
        updated_at=NOW,
    )


def item(text, at, *, product=None, cause=None, shop=None, touchpoint=None, polarity="negative", **kw):
    """A feedback item as scenery (labels set directly)."""
    n = next(_seq)
    return FeedbackItem.objects.create(
        source=kw.pop("source", "ticket_created"),
        source_key=f"test:{n}",
        text=text,
        occurred_at=at,
        product=product,
        shop=shop,
        cause=cause,
        touchpoint=touchpoint,
        polarity=polarity,
        sentiment=kw.pop("sentiment", -0.6 if polarity == "negative" else 0.5),
        channel=kw.pop("channel", "jd"),
        created_at=at,
        updated_at=at,
        **kw,
    )


def weekly_items(counts, text, **kw):
    """counts[i] items in week 8-i (oldest first, this week last)."""
    for i, n in enumerate(counts):
        for k in range(n):
            item(text, week(len(counts) - 1 - i, day=k % 2, hour=9 + k % 10), **kw)


@pytest.fixture
def oxy():
    return Product.objects.create(model_number="KY-5W", name="制氧机", category="呼吸健康")


@pytest.fixture
def bp():
    return Product.objects.create(model_number="BP-620", name="血压计", category="家用医疗")


@pytest.fixture
def jd():
    return Shop.objects.create(code="jd-test", name="京东旗舰店", platform="jd")


@pytest.fixture
def causes():
    product = node("cause", "产品")
    logistics = node("cause", "物流")
    return {
        "product": product,
        "noise": node("cause", "性能/噪音", product),
        "logistics": logistics,
        "slow": node("cause", "配送慢", logistics),
    }


@pytest.fixture
def supervisor():
    return UserFactory(role="supervisor")


@pytest.fixture
def agent():
    return UserFactory(role="agent")


def insights_by_key():
    return {i.key: i for i in Insight.objects.all()}


class TestGrouping:
    def test_items_group_by_product_cause_and_phrase(self, oxy, bp, jd, causes):
        # given noise complaints about two products, slow delivery about one, and two odour remarks
        for text in ["噪音很大晚上睡不着", "噪音太大了", "开机噪音特别大", "噪音像拖拉机"]:
            item(text, week(0), product=oxy, cause=causes["noise"], shop=jd)
        for text in ["噪音很大", "测量时噪音大", "噪音刺耳"]:
            item(text, week(1), product=bp, cause=causes["noise"], shop=jd)
        for text in ["物流太慢等了一周", "物流太慢了", "物流太慢还不送货上门"]:
            item(text, week(2), product=oxy, cause=causes["slow"], shop=jd)
        item("有异味", week(0), product=oxy, cause=causes["noise"])
        item("异味很重", week(0), product=oxy, cause=causes["noise"])
        # and positive feedback that is never an insight
        for _ in range(4):
            item("噪音很小很安静", week(0), product=oxy, cause=causes["noise"], polarity="positive")

        # when insights are computed
        found = compute_insights(NOW)

        # then one insight per (product, cause, phrase), three items or more each
        by_key = insights_by_key()
        noise_oxy = f"{oxy.pk}:{causes['noise'].pk}:噪音"
        noise_bp = f"{bp.pk}:{causes['noise'].pk}:噪音"
        assert noise_oxy in by_key and noise_bp in by_key
        slow = [k for k in by_key if k.startswith(f"{oxy.pk}:{causes['slow'].pk}:")]
        assert len(slow) == 1 and found == 3 == len(by_key)
        insight = by_key[noise_oxy]
        assert insight.title == "制氧机 KY-5W · 噪音 (产品/性能/噪音)"
        assert insight.item_count == 4 and insight.this_week == 4
        assert insight.key_phrases[0] == "噪音" and len(insight.key_phrases) <= 5
        assert "制氧机" not in insight.key_phrases  # the product's own name is no phrase
        assert insight.breakdown["shops"] == {"京东旗舰店": 4}
        assert insight.breakdown["channels"] == {"jd": 4}
        assert insight.share_of_negative == pytest.approx(4 / 12, abs=1e-3)
        assert InsightItem.objects.filter(insight=insight).count() == 4
        assert insight.first_seen <= insight.last_seen

    def test_a_bad_review_counts_even_when_its_text_reads_neutral(self, oxy, jd):
        # given three 差评 review items whose polarity the model left neutral
        for k in range(3):
            review = Review.objects.create(
                shop=jd, platform="jd", dedup_key=f"r{k}", level="bad", rating=1,
                content="噪音大", reviewed_at=week(0), created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            item("噪音大，晚上吵", week(0), product=oxy, review=review, source="review", polarity="neutral")
        # when insights are computed
        compute_insights(NOW)
        # then they make an insight without a cause
        assert list(Insight.objects.values_list("key", "item_count")) == [(f"{oxy.pk}:0:噪音", 3)]

    def test_items_outside_the_nine_weeks_are_left_out(self, oxy):
        for _ in range(3):
            item("噪音大", week(9), product=oxy)
        assert compute_insights(NOW) == 0


class TestSpikes:
    def test_a_real_jump_is_a_spike(self, oxy, causes):
        # given steady other complaints (4 a week) and noise complaints 1,2,1,1,2,1,1,2 then 12
        weekly_items([4] * 9, "物流太慢了", product=oxy, cause=causes["slow"])
        weekly_items([1, 2, 1, 1, 2, 1, 1, 2, 12], "噪音太大睡不着", product=oxy, cause=causes["noise"])
        # when insights are computed
        compute_insights(NOW)
        # then the noise insight is a significant spike, and ranks first by impact
        noise = Insight.objects.get(key=f"{oxy.pk}:{causes['noise'].pk}:噪音")
        assert noise.is_spike and noise.spike_p_value < 0.01
        assert noise.this_week == 12 and noise.baseline_mean == pytest.approx(11 / 8)
        assert [n for _w, n in noise.weekly] == [1, 2, 1, 1, 2, 1, 1, 2, 12]
        assert noise.weekly[0][0] == "2026-09-28" and noise.weekly[-1][0] == "2026-11-23"
        slow = Insight.objects.exclude(pk=noise.pk).get()
        assert not slow.is_spike
        assert noise.impact == pytest.approx(23 * 1.6 * 2) and slow.impact == pytest.approx(36 * 1.6)

    def test_ordinary_wobble_is_not_a_spike(self, oxy, causes):
        # given noise complaints 2,1,3,2,2,1,2,3 then 3 among steady other complaints
        weekly_items([4] * 9, "物流太慢了", product=oxy, cause=causes["slow"])
        weekly_items([2, 1, 3, 2, 2, 1, 2, 3, 3], "噪音太大睡不着", product=oxy, cause=causes["noise"])
        compute_insights(NOW)
        noise = Insight.objects.get(key=f"{oxy.pk}:{causes['noise'].pk}:噪音")
        assert not noise.is_spike and noise.spike_p_value > 0.01

    def test_the_test_itself(self):
        # a jump in share: flagged; the same count when everything else grew as much: not flagged
        assert stats.spike_test([1, 2, 1, 1, 2, 1, 1, 2, 12], [11] * 8 + [22]).is_spike
        assert not stats.spike_test([1, 2, 1, 1, 2, 1, 1, 2, 12], [11] * 8 + [120]).is_spike
        # a new topic with only two items this week: too few, whatever p says
        assert not stats.spike_test([0] * 8 + [2], [10] * 8 + [12]).is_spike
        assert stats.spike_test([0] * 9, [0] * 9).p_value is None


class TestRecomputation:
    def test_key_and_status_survive_and_vanished_insights_go_unless_acknowledged(
        self, oxy, causes, supervisor
    ):
        # given two insights, one acknowledged by a supervisor
        weekly_items([0] * 8 + [3], "噪音太大", product=oxy, cause=causes["noise"])
        weekly_items([0] * 8 + [3], "物流太慢", product=oxy, cause=causes["slow"])
        compute_insights(NOW)
        noise = Insight.objects.get(key=f"{oxy.pk}:{causes['noise'].pk}:噪音")
        set_insight_status(actor=supervisor, insight_id=noise.pk, status="acknowledged")
        event = AuditEvent.objects.get(verb="voc.insight_status_changed")
        assert event.data["from"] == "new" and event.data["to"] == "acknowledged"

        # when more noise arrives and the worker recomputes twice
        item("噪音又大了", week(0), product=oxy, cause=causes["noise"])
        compute_insights(NOW)
        compute_insights(NOW)

        # then the same row keeps its status and gets the new item
        again = Insight.objects.get(key=noise.key)
        assert again.pk == noise.pk and again.status == "acknowledged" and again.item_count == 4
        assert InsightItem.objects.filter(insight=again).count() == 4

        # when every item is gone
        FeedbackItem.objects.all().delete()
        compute_insights(NOW)
        # then the new insight is deleted, the acknowledged one kept with zero counts
        kept = Insight.objects.get()
        assert kept.pk == noise.pk and kept.item_count == 0 and kept.this_week == 0
        assert [n for _w, n in kept.weekly] == [0] * 9 and not kept.is_spike

    def test_only_insight_roles_set_the_status(self, oxy, agent):
        weekly_items([0] * 8 + [3], "噪音太大", product=oxy)
        compute_insights(NOW)
        from kefu.core.errors import PermissionDenied, ValidationFailed

        insight = Insight.objects.get()
        with pytest.raises(PermissionDenied):
            set_insight_status(actor=agent, insight_id=insight.pk, status="dismissed")
        with pytest.raises(ValidationFailed) as err:
            set_insight_status(actor=UserFactory(role="admin"), insight_id=insight.pk, status="done")
        assert err.value.field == "status"
        assert Insight.objects.get().status == "new"


@pytest.fixture
def spike_scenery(oxy, jd, causes):
    weekly_items([4] * 9, "物流太慢了", product=oxy, cause=causes["slow"], shop=jd)
    weekly_items([1, 2, 1, 1, 2, 1, 1, 2, 12], "噪音太大睡不着", product=oxy, cause=causes["noise"], shop=jd)
    compute_insights(NOW)
    return Insight.objects.get(key=f"{oxy.pk}:{causes['noise'].pk}:噪音")


class TestApi:
    def test_list_by_impact_with_filters(self, api, agent, spike_scenery, causes):
        with time_machine.travel(NOW, tick=False):
            r = api(agent).get("voc/insights")
            assert r.status_code == 200, r.content
            body = r.json()
            assert body["count"] == 2 and body["items"][0]["id"] == spike_scenery.pk
            assert body["items"][0]["is_spike"] is True and body["items"][0]["spike_p_value"] < 0.01
            spikes = api(agent).get("voc/insights", spike="true").json()
            assert [i["id"] for i in spikes["items"]] == [spike_scenery.pk]
            by_cause = api(agent).get("voc/insights", cause=causes["logistics"].pk).json()
            assert [i["cause"] for i in by_cause["items"]] == ["配送慢"]

    def test_one_insight_with_weekly_and_examples(self, api, agent, spike_scenery):
        r = api(agent).get(f"voc/insights/{spike_scenery.pk}")
        assert r.status_code == 200, r.content
        body = r.json()
        assert [w["count"] for w in body["weekly"]] == [1, 2, 1, 1, 2, 1, 1, 2, 12]
        assert body["weekly"][-1]["week"] == "2026-11-23"
        assert len(body["examples"]) == 10 and body["examples"][0]["text"] == "噪音太大睡不着"
        assert api(agent).get("voc/insights/999999").status_code == 404
        assert api().get("voc/insights").status_code == 401

    def test_status_needs_the_insight_permission(self, api, agent, supervisor, spike_scenery):
        url = f"voc/insights/{spike_scenery.pk}/status"
        r = api(agent).post(url, {"status": "dismissed"})
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
        r = api(supervisor).post(url, {"status": "bogus"})
        assert r.status_code == 422 and r.json()["field"] == "status"
        r = api(supervisor).post(url, {"status": "acknowledged"})
        assert r.status_code == 200 and r.json()["status"] == "acknowledged"
        assert api(supervisor).post("voc/insights/999999/status", {"status": "new"}).status_code == 404
        assert AuditEvent.objects.filter(verb="voc.insight_status_changed").count() == 1


def client_for(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def chart_data(html: str, element_id: str) -> dict:
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert m, f"no {element_id}"
    return json.loads(m.group(1))


class TestPages:
    def test_the_list_by_impact_with_spike_badge_and_trend(self, agent, spike_scenery):
        with time_machine.travel(NOW, tick=False), translation.override("en"):
            r = client_for(agent).get("/voc/insights/")
        html = r.content.decode()
        assert r.status_code == 200
        other = Insight.objects.exclude(pk=spike_scenery.pk).get()
        assert html.index(spike_scenery.title) < html.index(other.title)  # by impact
        assert 'data-testid="spike-badge"' in html and "p &lt; 0.0001" in html
        assert 'data-kf-spark="[1, 2, 1, 1, 2, 1, 1, 2, 12]"' in html
        assert "Recompute now" not in html  # agents may not recompute
        assert "vendor/echarts/echarts.min.js" in html

    def test_export_and_recompute(self, supervisor, agent, spike_scenery):
        c = client_for(supervisor)
        r = c.get("/voc/insights/", {"format": "csv"})
        assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
        assert spike_scenery.title in r.content.decode("utf-8-sig")
        with time_machine.travel(NOW, tick=False):
            r = c.post("/voc/insights/recompute/")
        assert r.status_code == 302 and Insight.objects.get(pk=spike_scenery.pk).is_spike
        assert client_for(agent).post("/voc/insights/recompute/").status_code == 403

    def test_the_detail_page(self, supervisor, spike_scenery):
        c = client_for(supervisor)
        r = c.get(f"/voc/insights/{spike_scenery.pk}/")
        html = r.content.decode()
        assert r.status_code == 200
        chart = chart_data(html, "kf-chart-trend")
        assert chart["counts"] == [1, 2, 1, 1, 2, 1, 1, 2, 12] and chart["baseline"] == pytest.approx(11 / 8)
        assert 'data-kf-chart="kf-chart-trend"' in html
        assert html.count('data-testid="example-link"') == 10
        first = FeedbackItem.objects.filter(insights=spike_scenery).order_by("-occurred_at", "-id").first()
        assert f'href="/voc/feedback/{first.pk}/"' in html
        assert html.count('data-testid="insight-item"') == 23  # all of them (one page of 50)
        assert "京东旗舰店" in html and 'data-testid="insight-status-form"' in html
        # a status change from the page
        r = c.post(f"/voc/insights/{spike_scenery.pk}/status/", {"status": "dismissed"})
        assert r.status_code == 302 and Insight.objects.get(pk=spike_scenery.pk).status == "dismissed"
        assert c.post(f"/voc/insights/{spike_scenery.pk}/status/", {"status": "x"}).status_code == 422
        assert c.get("/voc/insights/999999/").status_code == 404

    def test_sign_in_required(self, spike_scenery):
        r = Client().get("/voc/insights/")
        assert r.status_code == 302 and "/login" in r["Location"]


class TestDemo:
    def test_the_demo_makes_the_noise_spike_the_top_insight(self):
        from kefu.voc.demo import seed_voc_demo

        with time_machine.travel(NOW, tick=False):
            first = seed_voc_demo(NOW)
            again = seed_voc_demo(NOW)
        assert first["reviews"] > 200 and again["reviews"] == 0
        top = Insight.objects.order_by("-impact").first()
        assert "制氧机" in top.title and "噪音" in top.title
        assert top.is_spike and top.this_week == 12 and top.spike_p_value < 0.01
        assert Review.objects.count() == FeedbackItem.objects.count()

    def test_the_seed_demo_receiver_reports_what_it_made(self):
        from kefu.voc.demo import on_demo_seeded

        with time_machine.travel(NOW, tick=False):
            line = on_demo_seeded(sender=None, now=NOW)
        assert line.startswith("Voice of customer: ") and "insights" in line

    def test_the_demo_pages_render(self, supervisor, django_assert_max_num_queries):
        from kefu.voc.demo import seed_voc_demo

        with time_machine.travel(NOW, tick=False):
            seed_voc_demo(NOW)
            top = Insight.objects.order_by("-impact").first()
            c = client_for(supervisor)
            r = c.get("/voc/")
            assert r.status_code == 200
            assert f'href="/voc/insights/{top.pk}/"' in r.content.decode()
            with django_assert_max_num_queries(12):  # bounded, whatever the number of insights
                r = c.get("/voc/insights/")
            assert r.status_code == 200 and r.content.decode().count('data-testid="insight-row"') >= 2
            assert c.get(f"/voc/insights/{top.pk}/").status_code == 200
