"""Verification: implemented → verifying → verified / not effective, decided from the data."""

from datetime import date, timedelta

import pytest
import time_machine

from kefu.accounts.services import get_system_user
from kefu.accounts.tests.factories import DepartmentFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import Conflict, PermissionDenied
from kefu.customers.tests.factories import ShopFactory
from kefu.loops.models import ImprovementAction, LoopSettings
from kefu.loops.services import verification
from kefu.loops.tests.test_metrics import at, item, make_action, review

pytestmark = pytest.mark.django_db

CREATED = date(2026, 3, 1)  # baseline: 1–28 February
IMPLEMENTED = date(2026, 3, 10)  # window: 10 March – 6 April (28 days)
WINDOW_END = date(2026, 4, 6)


def reviews(shop, day, bad, total):
    for i in range(total):
        review(shop, "bad" if i < bad else "good", at(day + timedelta(days=i % 20)))


def implemented_action(**fields):
    fields.setdefault("metric", "negative_review_rate")
    return make_action(
        status="implemented", created_at=at(CREATED, 9), implemented_at=at(IMPLEMENTED, 15), **fields
    )


def statuses(action):
    return [
        (e.data["from"], e.data["to"])
        for e in AuditEvent.objects.filter(verb="loops.action_status_changed", subject_id=action.pk)
    ]


def run_worker(day):
    with time_machine.travel(at(day, 2), tick=False):
        verification.start_due_verifications()
        return verification.verify_due_actions()


class TestWindow:
    def test_implemented_action_starts_verifying_with_the_configured_window(self):
        # given a 28-day window setting and an implemented action
        LoopSettings.objects.update_or_create(pk=1, defaults={"verification_days": 14})
        shop = ShopFactory()
        action = implemented_action(metric_shop=shop, goal_value=0.02)
        # when the worker runs the next day
        with time_machine.travel(at(IMPLEMENTED + timedelta(days=1), 2), tick=False):
            started = verification.start_due_verifications()
        # then the action is verifying from the implemented date for 14 days, with its baseline
        action.refresh_from_db()
        assert started == [action.pk] and action.status == "verifying"
        assert (action.verify_from, action.verify_to) == (IMPLEMENTED, IMPLEMENTED + timedelta(days=13))
        assert action.baseline_from == date(2026, 2, 1)
        assert statuses(action) == [("implemented", "verifying")]
        assert AuditEvent.objects.get(verb="loops.action_status_changed").actor == get_system_user()

    def test_actions_without_a_metric_and_other_states_are_left_alone(self):
        no_metric = implemented_action(metric="")
        in_progress = make_action(status="in_progress", metric="complaint_volume")
        assert verification.start_due_verifications() == []
        with pytest.raises(Conflict):
            verification.start_verification(in_progress.pk, None)
        assert ImprovementAction.objects.get(pk=no_metric.pk).status == "implemented"


class TestDecision:
    def test_improved_rate_is_verified_with_a_p_value(self):
        # given 30% 差评 before and 3% after the fix, goal 5%
        shop = ShopFactory()
        reviews(shop, date(2026, 2, 2), 30, 100)
        reviews(shop, IMPLEMENTED, 3, 100)
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        # when the worker runs on the last day of the window, nothing is decided yet
        assert run_worker(WINDOW_END) == []
        assert ImprovementAction.objects.get(pk=action.pk).status == "verifying"
        # when it runs the day after the window
        assert run_worker(WINDOW_END + timedelta(days=1)) == [action.pk]
        # then the action is verified, significantly, with the weekly series for the chart
        action.refresh_from_db()
        v = action.verification
        assert action.status == "verified" and action.verified_at is not None
        assert action.verified_value == pytest.approx(0.03) and v["value"] == pytest.approx(0.03)
        assert v["baseline"] == pytest.approx(0.30) and v["goal"] == 0.05
        assert v["test"] == "fisher_exact_one_sided" and v["p_value"] < 0.001 and v["significant"]
        assert [w[0] for w in v["weekly"]["baseline"]] == [
            "2026-02-01",
            "2026-02-08",
            "2026-02-15",
            "2026-02-22",
        ]
        assert len(v["weekly"]["window"]) == 4 and v["decided_at"].startswith("2026-04-07T02:00")
        assert statuses(action) == [("implemented", "verifying"), ("verifying", "verified")]
        ev = AuditEvent.objects.get(verb="loops.action_verified", subject_id=action.pk)
        assert ev.data["result"] == "verified" and ev.data["p_value"] == v["p_value"]

    def test_rate_that_did_not_improve_is_not_effective(self):
        shop = ShopFactory()
        reviews(shop, date(2026, 2, 2), 10, 100)
        reviews(shop, IMPLEMENTED, 9, 100)
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        action.refresh_from_db()
        assert action.status == "not_effective" and action.verified_at is not None
        assert action.verification["goal_met"] is False and action.verification["p_value"] > 0.05

    def test_goal_reached_by_chance_is_not_effective(self):
        # given a small drop that meets the goal but is not significant
        shop = ShopFactory()
        reviews(shop, date(2026, 2, 2), 6, 100)
        reviews(shop, IMPLEMENTED, 4, 100)
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        action.refresh_from_db()
        assert action.verification["goal_met"] is True and action.verification["p_value"] >= 0.05
        assert action.status == "not_effective"

    def test_low_volume_is_decided_on_the_goal_alone(self):
        # given only a handful of reviews in each period
        shop = ShopFactory()
        reviews(shop, date(2026, 2, 2), 2, 5)
        reviews(shop, IMPLEMENTED, 0, 4)
        action = implemented_action(metric_shop=shop, goal_value=0.1)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        action.refresh_from_db()
        v = action.verification
        assert (v["test"], v["p_value"], v["note"]) == (None, None, "not enough data for a test")
        assert action.status == "verified"

    def test_complaint_volume_uses_a_poisson_rate_test(self):
        # given 40 negative items in the 28 baseline days and 8 in the window
        for i in range(40):
            item(at(date(2026, 2, 1) + timedelta(days=i % 28)))
        for i in range(8):
            item(at(IMPLEMENTED + timedelta(days=i)))
        action = implemented_action(metric="complaint_volume", goal_value=3)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        action.refresh_from_db()
        v = action.verification
        assert v["value"] == pytest.approx(2.0) and v["baseline"] == pytest.approx(10.0)
        assert v["test"] == "poisson_rate_one_sided" and v["p_value"] < 0.001
        assert action.status == "verified"


class TestReverify:
    def test_reverify_after_late_data_changes_the_result(self):
        # given an action verified on the data of the time
        shop = ShopFactory()
        dept = DepartmentFactory()
        reviews(shop, date(2026, 2, 2), 30, 100)
        reviews(shop, IMPLEMENTED, 3, 100)
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        ImprovementAction.objects.filter(pk=action.pk).update(department=dept)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        # and late-imported 差评 of the window
        reviews(shop, IMPLEMENTED, 20, 20)
        owner = UserFactory(role="department_owner", department=dept)
        # when the department owner re-verifies
        with time_machine.travel(at(date(2026, 4, 20)), tick=False):
            verification.reverify(actor=owner, action_id=action.pk)
        # then the result follows the data, by the person
        action.refresh_from_db()
        assert action.status == "not_effective"
        assert statuses(action)[-1] == ("verified", "not_effective")
        last = AuditEvent.objects.filter(verb="loops.action_verified").last()
        assert last.actor == owner and last.data["result"] == "not_effective"

    def test_reverify_needs_the_role_and_a_finished_window(self):
        shop = ShopFactory()
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        run_worker(IMPLEMENTED)
        with pytest.raises(PermissionDenied):
            verification.reverify(actor=UserFactory(role="agent"), action_id=action.pk)
        with pytest.raises(PermissionDenied):
            verification.reverify(
                actor=UserFactory(role="department_owner", department=DepartmentFactory()),
                action_id=action.pk,
            )
        with time_machine.travel(at(WINDOW_END, 10), tick=False), pytest.raises(Conflict) as exc:
            verification.reverify(actor=UserFactory(role="admin"), action_id=action.pk)
        assert exc.value.code == "window_not_ended"


class TestPartial:
    def test_the_partial_shows_the_result_the_test_and_the_chart_data(self, rf):
        from django.template.loader import render_to_string
        from django.utils import translation

        # given an action verified with a significant drop
        shop = ShopFactory()
        reviews(shop, date(2026, 2, 2), 30, 100)
        reviews(shop, IMPLEMENTED, 3, 100)
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        action.refresh_from_db()
        request = rf.get("/")
        request.user = UserFactory(role="agent")
        # when the action page renders the partial (in English)
        with translation.override("en"):
            html = render_to_string("loops/partials/action_verification.html", {"action": action}, request)
        # then the figures, the result with its p-value and the chart's data are there
        assert 'data-result="verified"' in html and "Fisher" in html and "p &lt; 0.0001 (significant)" in html
        assert 'data-kf-metric="negative_review_rate"' in html and 'value="0.05"' in html
        assert f'id="kf-loops-verification-{action.pk}"' in html
        assert f'data-kf-loops-chart="kf-loops-verification-{action.pk}"' in html
        assert "kefu/loops-charts.js" in html and "<script>" not in html

    def test_before_verification_the_chart_is_fetched_from_the_metric_api(self, rf):
        from django.template.loader import render_to_string

        action = make_action(metric="complaint_volume", baseline_value=7.0)
        request = rf.get("/")
        request.user = UserFactory(role="agent")
        html = render_to_string("loops/partials/action_verification.html", {"action": action}, request)
        assert 'data-kf-loops-chart=""' in html
        assert f'data-kf-metric-url="/api/v1/loops/actions/{action.pk}/metric"' in html
        assert "data-result" not in html

    def test_the_action_page_includes_the_verification(self, client):
        shop = ShopFactory()
        reviews(shop, date(2026, 2, 2), 30, 100)
        reviews(shop, IMPLEMENTED, 3, 100)
        action = implemented_action(metric_shop=shop, goal_value=0.05)
        run_worker(IMPLEMENTED)
        run_worker(WINDOW_END + timedelta(days=1))
        client.force_login(UserFactory(role="supervisor"))
        page = client.get(f"/loops/actions/{action.pk}/").content.decode()
        assert 'data-testid="action-verification"' in page and 'data-result="verified"' in page
        assert 'data-testid="action-remediation"' in page


def test_the_hourly_jobs_start_and_decide_verifications():
    from kefu.loops import verification_tasks

    # given an implemented action whose window has long ended (tasks run inline in tests)
    shop = ShopFactory()
    reviews(shop, date(2026, 2, 2), 30, 100)
    reviews(shop, IMPLEMENTED, 3, 100)
    action = implemented_action(metric_shop=shop, goal_value=0.05)
    with time_machine.travel(at(date(2026, 5, 1), 3), tick=False):
        verification_tasks.start_verifications_task()
        assert ImprovementAction.objects.get(pk=action.pk).status == "verifying"
        verification_tasks.verify_due_actions_task()
    assert ImprovementAction.objects.get(pk=action.pk).status == "verified"


def test_reverify_from_the_page_and_the_api(client, api):
    # given a verified action whose window got late 差评
    shop = ShopFactory()
    reviews(shop, date(2026, 2, 2), 30, 100)
    reviews(shop, IMPLEMENTED, 3, 100)
    action = implemented_action(metric_shop=shop, goal_value=0.05)
    run_worker(IMPLEMENTED)
    run_worker(WINDOW_END + timedelta(days=1))
    reviews(shop, IMPLEMENTED, 20, 20)
    admin = UserFactory(role="admin")
    # when an admin presses "compute again" on the action page
    client.force_login(admin)
    page = client.get(f"/loops/actions/{action.pk}/").content.decode()
    assert 'data-testid="verification-reverify"' in page
    r = client.post(f"/loops/actions/{action.pk}/reverify/")
    # then the result follows the data
    assert r.status_code == 302 and r.url == f"/loops/actions/{action.pk}/"
    assert ImprovementAction.objects.get(pk=action.pk).status == "not_effective"
    # and through the API the same; an agent gets 403
    r = api(admin).post(f"loops/actions/{action.pk}/reverify")
    assert r.status_code == 200 and r.json()["verification"]["result"] == "not_effective"
    assert api(UserFactory(role="agent")).post(f"loops/actions/{action.pk}/reverify").status_code == 403
    client.force_login(UserFactory(role="agent"))
    assert client.post(f"/loops/actions/{action.pk}/reverify/").status_code == 403
