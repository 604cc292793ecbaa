"""Target metrics computed from kefu's own data over local (Asia/Shanghai) dates."""

from datetime import date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from kefu.accounts.tests.factories import DepartmentFactory
from kefu.audit.models import AuditEvent
from kefu.customers.tests.factories import CustomerFactory, ProductFactory, ShopFactory
from kefu.loops.models import ImprovementAction
from kefu.loops.services import metrics
from kefu.tickets.tests.factories import TicketFactory
from kefu.voc.models import FeedbackItem, Review, TaxonomyNode

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
_seq = count(1)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def make_action(**fields) -> ImprovementAction:
    n = next(_seq)
    fields.setdefault("created_at", at(date(2026, 3, 1), 9))
    return ImprovementAction.objects.create(
        number=f"A{n:05d}", title="差评率过高", problem="……", department=DepartmentFactory(),
        updated_at=fields["created_at"], **fields,
    )  # fmt: skip


def review(shop, level, when, product=None) -> Review:
    n = next(_seq)
    return Review.objects.create(
        shop=shop, platform=shop.platform, dedup_key=f"k{n}", level=level, reviewed_at=when, product=product,
        content="评价", created_at=when, updated_at=when,
    )  # fmt: skip


def item(when, polarity="negative", product=None, shop=None, cause=None) -> FeedbackItem:
    n = next(_seq)
    return FeedbackItem.objects.create(
        source="review", source_key=f"test:{n}", text="不制冷", occurred_at=when, polarity=polarity,
        product=product, shop=shop, cause=cause, created_at=when, updated_at=when,
    )  # fmt: skip


def node(name, parent=None) -> TaxonomyNode:
    now = at(date(2026, 1, 1))
    return TaxonomyNode.objects.create(
        kind="cause", name=name, parent=parent, level=(parent.level + 1) if parent else 1,
        created_at=now, updated_at=now,
    )  # fmt: skip


class TestNegativeReviewRate:
    def test_bad_reviews_over_all_reviews_of_the_product_in_the_shop(self):
        # given reviews of 制氧机 in the JD shop, and reviews elsewhere that must not count
        jd, tmall = ShopFactory(platform="jd"), ShopFactory()
        oxy, other = ProductFactory(), ProductFactory(name="冰箱")
        day = date(2026, 3, 2)
        for level in ("bad", "good", "good", "neutral"):
            review(jd, level, at(day), oxy)
        review(tmall, "bad", at(day), oxy)
        review(jd, "bad", at(day), other)
        action = make_action(metric="negative_review_rate", metric_product=oxy, metric_shop=jd)
        # when the rate is computed for that day
        result = metrics.value(action, day, day)
        # then one bad review of four counts
        assert result == metrics.MetricValue(0.25, 1, 4)

    def test_dates_are_local_days_both_ends_included(self):
        shop = ShopFactory()
        action = make_action(metric="negative_review_rate")
        review(shop, "bad", at(date(2026, 3, 1), 23, 30))  # 15:30 UTC, still 1 March in Shanghai
        review(shop, "good", at(date(2026, 3, 2), 0, 10))  # 2 March, outside
        review(shop, "good", at(date(2026, 2, 28), 0, 0))  # first instant of the range
        assert metrics.value(action, date(2026, 2, 28), date(2026, 3, 1)) == metrics.MetricValue(0.5, 1, 2)

    def test_no_reviews_has_no_value(self):
        action = make_action(metric="negative_review_rate")
        assert metrics.value(action, date(2026, 3, 1), date(2026, 3, 7)) == metrics.MetricValue(None, 0, 0)


class TestComplaintVolume:
    def test_negative_items_per_week_with_the_cause_and_its_subcauses(self):
        # given a cause tree 物流 → 配送慢, and another cause
        logistics = node("物流")
        slow = node("配送慢", logistics)
        product = node("产品")
        start = date(2026, 3, 2)
        for d in range(14):
            item(at(start + timedelta(days=d)), cause=slow if d % 2 else logistics)
        item(at(start), cause=product)
        item(at(start), polarity="positive", cause=logistics)
        item(at(start + timedelta(days=14)), cause=logistics)  # after the range
        action = make_action(metric="complaint_volume", metric_cause=logistics)
        # when the volume over two weeks is computed
        result = metrics.value(action, start, start + timedelta(days=13))
        # then 14 negative items in 14 days are 7 a week
        assert result == metrics.MetricValue(7.0, 14, 14)
        # and a subcause alone counts only its own items
        action.metric_cause = slow
        assert metrics.value(action, start, start + timedelta(days=13)).numerator == 7

    def test_weekly_series_for_charts(self):
        shop = ShopFactory()
        start = date(2026, 3, 2)
        for d, n in ((0, 3), (8, 5)):
            for _ in range(n):
                item(at(start + timedelta(days=d)), shop=shop)
        item(at(start), shop=ShopFactory())
        action = make_action(metric="complaint_volume", metric_shop=shop)
        assert metrics.weekly(action, start, start + timedelta(days=13)) == [
            ("2026-03-02", 3.0),
            ("2026-03-09", 5.0),
        ]


class TestRepeatContactRate:
    def test_tickets_whose_customer_had_another_ticket_in_the_previous_30_days(self):
        # given three customers with tickets for 制氧机 in March
        oxy = ProductFactory()
        repeat, once, long_ago = CustomerFactory(), CustomerFactory(), CustomerFactory()
        march = date(2026, 3, 10)
        TicketFactory(customer=repeat, product=oxy, created_at=at(march - timedelta(days=5)))
        TicketFactory(customer=repeat, product=oxy, created_at=at(march))
        TicketFactory(customer=once, product=oxy, created_at=at(march))
        TicketFactory(customer=long_ago, product=oxy, created_at=at(march - timedelta(days=40)))
        TicketFactory(customer=long_ago, product=oxy, created_at=at(march))
        TicketFactory(customer=once, product=ProductFactory(), created_at=at(march - timedelta(days=1)))
        action = make_action(metric="repeat_contact_rate", metric_product=oxy)
        # when the rate is computed for 10 March
        result = metrics.value(action, march, march)
        # then only the customer who wrote about 制氧机 5 days before is a repeat contact
        assert result == metrics.MetricValue(1 / 3, 1, 3)


class TestBaseline:
    def test_baseline_is_the_28_days_before_the_action_was_created(self):
        # given 差评 before and after the action was created on 1 March (local)
        shop = ShopFactory()
        review(shop, "bad", at(date(2026, 2, 1)))
        review(shop, "good", at(date(2026, 2, 1)))
        review(shop, "bad", at(date(2026, 2, 28), 23))
        review(shop, "bad", at(date(2026, 1, 31)))  # 29 days before: outside
        review(shop, "good", at(date(2026, 3, 1), 8))  # the day of creation: outside
        action = make_action(metric="negative_review_rate", metric_shop=shop)
        # when the baseline is taken, the object carries it (not saved)
        result = metrics.baseline(action)
        assert result == metrics.MetricValue(2 / 3, 2, 3)
        assert (action.baseline_from, action.baseline_to) == (date(2026, 2, 1), date(2026, 2, 28))
        assert action.baseline_value == pytest.approx(2 / 3)
        assert ImprovementAction.objects.get(pk=action.pk).baseline_value is None
        # and compute_baseline stores it, with an audit event
        metrics.compute_baseline(action_id=action.pk)
        stored = ImprovementAction.objects.get(pk=action.pk)
        assert stored.baseline_value == pytest.approx(2 / 3) and stored.baseline_to == date(2026, 2, 28)
        assert AuditEvent.objects.filter(verb="loops.action_changed", subject_id=action.pk).exists()

    def test_an_action_without_a_metric_has_no_baseline(self):
        action = make_action()
        assert metrics.baseline(action) is None and action.baseline_value is None
