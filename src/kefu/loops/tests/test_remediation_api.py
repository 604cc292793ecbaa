"""POST/GET /api/v1/loops/remediations, POST …/{id}/reverse, GET /api/v1/loops/actions/{id}/metric."""

from datetime import date, timedelta

import pytest

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.tests.factories import ShopFactory
from kefu.loops.models import RemediationOrder
from kefu.loops.tests.test_metrics import at, make_action, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return UserFactory(role="executive", username="boss")


def test_order_list_get_and_reverse(api, boss):
    # given an executive's API client and an action
    client = api(boss)
    shop = ShopFactory(code="tmall-main")
    action = make_action()
    # when a SKU is delisted through the API
    r = client.post(
        "loops/remediations",
        {
            "kind": "delist_sku",
            "shop_id": shop.pk,
            "target": "KY-5W",
            "reason": "噪音",
            "action_id": action.pk,
        },
    )
    # then it is created, in force, with no webhook configured (no deliveries)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["shop"], body["action"], body["ordered_by"]) == (
        "active", "tmall-main", action.number, "boss"
    )  # fmt: skip
    assert body["deliveries"] == []
    # and it is listed (filtered by action) and can be read
    listed = client.get("loops/remediations", action_id=action.pk).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    assert client.get(f"loops/remediations/{body['id']}").json()["target"] == "KY-5W"
    assert client.get("loops/remediations", status="reversed").json()["count"] == 0
    # when it is reversed
    r = client.post(f"loops/remediations/{body['id']}/reverse", {"reason": "已修复"})
    assert r.status_code == 200 and r.json()["status"] == "reversed" and r.json()["reversed_by"] == "boss"
    # then reversing again is a 409
    r = client.post(f"loops/remediations/{body['id']}/reverse", {"reason": "再来"})
    assert r.status_code == 409 and r.json()["code"] == "already_reversed"


def test_agent_gets_403_and_nothing_is_written(api):
    r = api(UserFactory(role="agent")).post(
        "loops/remediations", {"kind": "close_warehouse", "target": "WH-1", "reason": "x"}
    )
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert (
        RemediationOrder.objects.count() == 0
        and not AuditEvent.objects.filter(verb__startswith="loops.").exists()
    )


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"kind": "nuke", "target": "WH-1", "reason": "x"}, 422, "kind"),
        ({"kind": "delist_sku", "target": "SKU", "reason": "x"}, 422, "shop_id"),
        ({"kind": "close_warehouse", "target": "", "reason": "x"}, 422, "target"),
        ({"kind": "close_warehouse", "target": "WH-1"}, 422, "reason"),
        ({"kind": "close_warehouse", "target": "WH-1", "reason": "x", "action_id": 99999}, 404, "action_id"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(api, boss, payload, status, field):
    r = api(boss).post("loops/remediations", payload)
    assert r.status_code == status and r.json()["field"] == field
    assert RemediationOrder.objects.count() == 0


def test_unknown_order_is_404_and_anonymous_is_401(api, boss):
    assert api(boss).get("loops/remediations/4242").status_code == 404
    assert api(boss).post("loops/remediations/4242/reverse", {"reason": "x"}).status_code == 404
    assert api().get("loops/remediations").status_code == 401


def test_action_metric_series_and_verification(api, boss):
    # given an action on the 差评率 of a shop, created on 1 March, with reviews in February
    shop = ShopFactory()
    for i in range(4):
        review(shop, "bad" if i == 0 else "good", at(date(2026, 2, 2) + timedelta(days=i)))
    action = make_action(metric="negative_review_rate", metric_shop=shop, goal_value=0.1)
    # when the metric is asked for
    r = api(boss).get(f"loops/actions/{action.pk}/metric")
    # then the baseline weeks are there, and no window yet
    assert r.status_code == 200
    body = r.json()
    assert body["metric"] == "negative_review_rate" and body["goal_value"] == 0.1
    assert body["baseline_weekly"] == [["2026-02-01", 0.25], ["2026-02-08", None], ["2026-02-15", None],
                                       ["2026-02-22", None]]  # fmt: skip
    assert body["window_weekly"] == [] and body["verification"] == {}
    assert api(boss).get("loops/actions/99999/metric").status_code == 404
