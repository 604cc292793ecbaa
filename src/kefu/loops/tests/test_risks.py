"""The risk register: services (audited writes, validation naming the field), the heat map, the daily
reminder of due reviews, the API and the pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from kefu.accounts.tests.factories import DepartmentFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.loops.models import Risk
from kefu.loops.risk_tasks import notify_due_risk_reviews_task
from kefu.loops.services.risks import create_risk, record_drill, review_risk, update_risk
from kefu.notifications.models import Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Beijing


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def manager():
    return UserFactory(role="supervisor", display_name="王主管")


@pytest.fixture
def owner():
    return UserFactory(role="department_owner", display_name="物流负责人", email="wl@example.com")


@pytest.fixture
def agent():
    return UserFactory(role="agent")


def verbs(risk):
    return list(
        AuditEvent.objects.filter(subject_type="risk", subject_id=risk.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


def web(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


# --- services ----------------------------------------------------------------------------------------


def test_create_update_drill_review_are_audited(manager, owner):
    # given a supervisor
    dept = DepartmentFactory(name="物流部")
    # when they add a risk, change it, record a drill and review it
    risk = create_risk(
        actor=manager,
        title="双十一仓库爆仓",
        type="management",
        likelihood=4,
        impact=4,
        owner_id=owner.pk,
        department_id=dept.pk,
        contingency_plan="启用备用仓",
        review_every_days=30,
    )
    assert risk.score == 16
    assert risk.next_review_at == NOW + timedelta(days=30)
    update_risk(actor=manager, risk_id=risk.pk, impact=5, status="mitigated")
    update_risk(actor=manager, risk_id=risk.pk, impact=5)  # no change: no event
    drill = record_drill(
        actor=manager, risk_id=risk.pk, held_on="2026-11-15", result="切换用时 2 小时", lessons="提前备货"
    )
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        review_risk(actor=manager, risk_id=risk.pk, note="季度复盘")
    # then every write left its event, with what changed
    assert verbs(risk) == [
        "loops.risk_created",
        "loops.risk_changed",
        "loops.risk_drill_recorded",
        "loops.risk_reviewed",
    ]
    changed = AuditEvent.objects.get(verb="loops.risk_changed")
    assert changed.data["changes"] == {
        "impact": {"from": 4, "to": 5},
        "status": {"from": "open", "to": "mitigated"},
    }
    risk.refresh_from_db()
    assert (risk.impact, risk.status, risk.score) == (5, "mitigated", 20)
    assert drill.held_on == date(2026, 11, 15) and drill.recorded_by == manager
    assert risk.last_reviewed_at == NOW + timedelta(days=3)
    assert risk.next_review_at == NOW + timedelta(days=33)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"likelihood": 6}, "likelihood"),
        ({"impact": 0}, "impact"),
        ({"impact": "high"}, "impact"),
        ({"type": "weather"}, "type"),
        ({"title": "  "}, "title"),
        ({"review_every_days": 0}, "review_every_days"),
        ({"owner_id": 999999}, "owner_id"),
        ({"insight_ids": [999999]}, "insight_ids"),
        ({"status": "gone"}, "status"),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(manager, fields, field):
    # given valid defaults, when one value is bad
    values = {"title": "系统宕机", "type": "system", **fields}
    with pytest.raises(ValidationFailed) as err:
        create_risk(actor=manager, **values)
    # then the error names the field and no risk exists
    assert err.value.field == field
    assert not Risk.objects.exists() and not AuditEvent.objects.filter(verb__startswith="loops.risk").exists()


def test_drill_in_the_future_is_refused(manager):
    risk = create_risk(actor=manager, title="结算差错", type="settlement")
    with pytest.raises(ValidationFailed) as err:
        record_drill(actor=manager, risk_id=risk.pk, held_on="2026-12-30", result="x")
    assert err.value.field == "held_on"


def test_agents_may_not_change_the_register(agent):
    with pytest.raises(PermissionDenied):
        create_risk(actor=agent, title="品牌舆情", type="brand")


# --- the daily reminder ----------------------------------------------------------------------------


def test_owner_is_notified_once_when_review_is_due(manager, owner, _clock):
    # given a risk reviewed every 7 days, another without an owner, and a closed one
    risk = create_risk(
        actor=manager, title="差评率超标", type="metric", owner_id=owner.pk, review_every_days=7
    )
    create_risk(actor=manager, title="无人负责", type="metric", review_every_days=7)
    create_risk(
        actor=manager, title="已关闭", type="metric", owner_id=owner.pk, review_every_days=7, status="closed"
    )
    # when the daily task runs before the due date: nothing
    assert notify_due_risk_reviews_task.call_local() == 0
    # when it runs after the due date, twice
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        assert notify_due_risk_reviews_task.call_local() == 1
        assert notify_due_risk_reviews_task.call_local() == 0
    # then the owner has one notification about that risk
    notes = Notification.objects.filter(recipient=owner)
    assert notes.count() == 1
    event = AuditEvent.objects.get(verb="loops.risk_review_due")
    assert event.subject_id == risk.pk and event.data["notify"] == [owner.pk]
    # and after a review the next due date is reminded again
    with time_machine.travel(NOW + timedelta(days=9), tick=False):
        review_risk(actor=owner, risk_id=risk.pk)
    with time_machine.travel(NOW + timedelta(days=17), tick=False):
        assert notify_due_risk_reviews_task.call_local() == 1
    assert Notification.objects.filter(recipient=owner).count() == 2


# --- API -------------------------------------------------------------------------------------------


def test_api_crud_drill_review_and_heat_map(api, manager, owner, agent):
    client = api(manager)
    # when a risk is created through the API
    r = client.post(
        "loops/risks",
        {
            "title": "支付通道中断",
            "type": "system",
            "likelihood": 3,
            "impact": 5,
            "owner_id": owner.pk,
            "contingency_plan": "切换备用通道",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["score"] == 15 and body["owner"] == "物流负责人"
    rid = body["id"]
    # then it can be read, changed, drilled and reviewed
    r = client.patch(f"loops/risks/{rid}", {"likelihood": 2})
    assert r.status_code == 200 and r.json()["score"] == 10
    r = client.post(f"loops/risks/{rid}/drills", {"held_on": "2026-11-10", "result": "30 分钟恢复"})
    assert r.status_code == 201 and r.json()["drills"][0]["result"] == "30 分钟恢复"
    r = client.post(f"loops/risks/{rid}/review", {"note": "ok"})
    assert r.status_code == 200 and r.json()["last_reviewed_at"]
    client.post("loops/risks", {"title": "另一风险", "type": "brand", "likelihood": 2, "impact": 5})
    r = api(agent).get("loops/risks", min_score=10)
    assert r.status_code == 200
    assert r.json()["count"] == 2
    heat = r.json()["heat_map"]
    assert heat[0][1] == 2 and sum(map(sum, heat)) == 2  # impact 5 row, likelihood 2 column
    assert api(agent).get(f"loops/risks/{rid}").json()["title"] == "支付通道中断"


def test_api_bad_input_is_422_naming_the_field(api, manager, agent):
    client = api(manager)
    r = client.post("loops/risks", {"title": "x", "type": "system", "impact": 9})
    assert r.status_code == 422 and r.json()["field"] == "impact"
    r = client.post("loops/risks", {"title": "x", "type": "system", "likelihood": "abc"})
    assert r.status_code == 422 and r.json()["field"] == "likelihood"
    r = client.get("loops/risks", min_score="lots")
    assert r.status_code == 422 and r.json()["field"] == "min_score"
    assert client.get("loops/risks/99999").status_code == 404
    assert api(agent).post("loops/risks", {"title": "x", "type": "system"}).status_code == 403
    assert not Risk.objects.exists()


# --- pages -----------------------------------------------------------------------------------------


def test_list_page_heat_map_cells_link_to_the_filtered_list(manager, agent):
    # given risks in three cells, two of them high
    for title, likelihood, impact in (("甲", 5, 5), ("乙", 5, 5), ("丙", 3, 5), ("丁", 1, 1)):
        create_risk(actor=manager, title=title, type="metric", likelihood=likelihood, impact=impact)
    # when an agent opens the register
    page = web(agent).get("/loops/risks/")
    html = page.content.decode()
    # then the heat map counts each cell and links to it
    assert page.status_code == 200
    assert 'data-likelihood="5" data-impact="5" data-count="2"' in html
    assert 'data-likelihood="3" data-impact="5" data-count="1"' in html
    assert 'data-likelihood="1" data-impact="1" data-count="1"' in html
    assert html.count('data-testid="risk-row"') == 4
    assert 'data-testid="risk-new"' not in html  # agents only read
    # when the 5×5 cell is followed
    html = web(agent).get("/loops/risks/", {"likelihood": 5, "impact": 5}).content.decode()
    assert html.count('data-testid="risk-row"') == 2
    # and the score filter
    html = web(agent).get("/loops/risks/", {"min_score": 15}).content.decode()
    assert html.count('data-testid="risk-row"') == 3
    assert web(agent).get("/loops/risks/", {"min_score": 30}).status_code == 422


def test_export_csv(manager):
    create_risk(actor=manager, title="=cmd|品牌危机", type="brand", likelihood=2, impact=3)
    r = web(manager).get("/loops/risks/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Risk", "Type", "Likelihood", "Impact", "Score"]
    assert rows[1][0] == "'=cmd|品牌危机" and rows[1][4] == "6"


def test_new_edit_drill_review_pages(manager, owner, agent):
    c = web(manager)
    # when a risk is added through the form with a bad impact
    r = c.post(
        "/loops/risks/new/",
        {
            "title": "冷链断链",
            "type": "management",
            "likelihood": 3,
            "impact": 7,
            "status": "open",
            "review_every_days": 30,
        },
    )
    assert r.status_code == 422 and 'data-testid="error-impact"' in r.content.decode()
    # then with good values it is created
    r = c.post(
        "/loops/risks/new/",
        {
            "title": "冷链断链",
            "type": "management",
            "likelihood": 3,
            "impact": 4,
            "status": "open",
            "review_every_days": 30,
            "owner": owner.pk,
        },
    )
    risk = Risk.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/loops/risks/{risk.pk}/"
    # when it is edited, drilled and reviewed on its page
    r = c.post(
        f"/loops/risks/{risk.pk}/edit/",
        {
            "title": "冷链断链",
            "type": "management",
            "likelihood": 5,
            "impact": 4,
            "status": "open",
            "review_every_days": 30,
        },
    )
    assert r.status_code == 302
    assert (
        c.post(f"/loops/risks/{risk.pk}/drills/", {"held_on": "2026-11-01", "result": "演练成功"}).status_code
        == 302
    )
    r = c.post(f"/loops/risks/{risk.pk}/drills/", {"held_on": "2027-01-01", "result": "未来"})
    assert r.status_code == 422 and 'data-testid="error-held_on"' in r.content.decode()
    assert c.post(f"/loops/risks/{risk.pk}/review/", {"note": "复核"}).status_code == 302
    # then the page shows it all
    html = c.get(f"/loops/risks/{risk.pk}/").content.decode()
    assert "Score 20 (5 × 4)" in html and "演练成功" in html and "复核" in html
    risk.refresh_from_db()
    assert risk.owner is None  # the edit form cleared the owner
    # and an agent sees the page but not the forms, and may not post
    html = web(agent).get(f"/loops/risks/{risk.pk}/").content.decode()
    assert 'data-testid="drill-form"' not in html and 'data-testid="risk-form"' not in html
    assert web(agent).post(f"/loops/risks/{risk.pk}/review/").status_code == 403
    assert web(agent).get("/loops/risks/new/").status_code == 403


def test_list_page_query_count_does_not_grow_with_risks(manager, owner, django_assert_max_num_queries):
    # given many risks with owners and departments
    dept = DepartmentFactory()
    for n in range(30):
        create_risk(actor=manager, title=f"风险{n}", type="metric", owner_id=owner.pk, department_id=dept.pk)
    c = web(manager)
    # then the register is read in a bounded number of queries
    with django_assert_max_num_queries(12):
        assert c.get("/loops/risks/").status_code == 200
