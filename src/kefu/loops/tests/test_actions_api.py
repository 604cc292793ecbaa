"""The improvement-actions API: create → list → transition (409 with allowed) → commit → claim →
comment (JSON and multipart) → evidence; bad input is a 4xx naming the field."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.loops.models import ImprovementAction
from kefu.loops.tests.test_actions import feedback, make_action, noise_insight, world  # noqa: F401
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)


@time_machine.travel(NOW, tick=False)
def test_create_list_get(api, world):  # noqa: F811
    insight = noise_insight(2)
    # when a supervisor posts an action from an insight with a milestone
    r = api(world.supervisor).post(
        "loops/actions",
        {
            "title": "制氧机噪音",
            "problem": "夜间噪音大",
            "department_id": world.qc.pk,
            "insight_id": insight.pk,
            "metric": "negative_review_rate",
            "goal_value": 0.03,
            "milestones": [{"title": "换风扇", "due_date": "2026-12-10"}],
        },
    )
    # then it is created, proposed, with the insight's items as evidence
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"].startswith("IA20261124")
    assert body["status"] == "proposed" and body["allowed_transitions"] == ["accepted", "rejected"]
    assert len(body["evidence"]) == 2 and body["milestones"][0]["due_date"] == "2026-12-10"
    assert body["metric_product_id"] == insight.product_id
    # and it is listed and readable by anyone signed in
    r = api(world.agent).get("loops/actions", department=world.qc.pk, status="open")
    assert r.status_code == 200 and r.json()["count"] == 1
    assert api(world.agent).get(f"loops/actions/{body['id']}").json()["title"] == "制氧机噪音"
    assert api(world.agent).get("loops/actions/9999").status_code == 404
    assert api().get("loops/actions").status_code == 401


def test_bad_input_names_the_field(api, world):  # noqa: F811
    r = api(world.supervisor).post("loops/actions", {"title": "x", "problem": "y", "department_id": 999})
    assert r.status_code == 422 and r.json()["field"] == "department_id"
    r = api(world.supervisor).post("loops/actions", {"title": "x", "problem": "y"})
    assert r.status_code == 422
    r = api(world.agent).post("loops/actions", {"title": "x", "problem": "y", "department_id": world.qc.pk})
    assert r.status_code == 403
    r = api(world.agent).get("loops/actions", status="nope")
    assert r.status_code == 422 and r.json()["field"] == "status"
    assert ImprovementAction.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_transition_commit_claim_patch(api, world):  # noqa: F811
    action = make_action(world)
    url = f"loops/actions/{action.pk}"
    # a move the workflow does not allow: 409 with the allowed targets
    r = api(world.head).post(f"{url}/transition", {"to": "implemented"})
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition" and r.json()["allowed"] == ["accepted", "rejected"]
    # rejecting without a reason: 422 naming reason
    r = api(world.head).post(f"{url}/transition", {"to": "rejected"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    # another department: 403
    assert api(world.log_head).post(f"{url}/commit", {"date": "2026-12-01"}).status_code == 403
    # the head commits a date: accepted
    r = api(world.head).post(f"{url}/commit", {"date": "2026-12-01"})
    assert (
        r.status_code == 200
        and r.json()["status"] == "accepted"
        and r.json()["committed_date"] == "2026-12-01"
    )
    r = api(world.head).post(f"{url}/commit", {"date": "2026-11-01"})
    assert r.status_code == 422 and r.json()["field"] == "date"
    r = api(world.head).post(f"{url}/transition", {"to": "in_progress"})
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    # an executive claims; an admin may not
    assert api(world.admin).post(f"{url}/claim").status_code == 403
    r = api(world.exec).post(f"{url}/claim")
    assert r.status_code == 200 and r.json()["claimed_by_id"] == world.exec.pk
    # re-assign through PATCH
    r = api(world.admin).patch(url, {"department_id": world.logistics.pk})
    assert r.status_code == 200 and r.json()["department"] == "物流" and r.json()["committed_date"] is None
    assert api(world.admin).patch(url, {"metric": "bogus"}).json()["field"] == "metric"


def test_comments_and_evidence(api, world):  # noqa: F811
    action = make_action(world)
    url = f"loops/actions/{action.pk}"
    r = api(world.head).post(f"{url}/comments", {"body": "已安排"})
    assert r.status_code == 201 and r.json()["body"] == "已安排"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    r = api(world.head).multipart(
        f"{url}/comments",
        {"body": "照片", "files": [SimpleUploadedFile("a.png", png, content_type="image/png")]},
    )
    assert r.status_code == 201 and r.json()["files"] == ["a.png"]
    r = api(world.head).multipart(
        f"{url}/comments", {"body": "x", "files": [SimpleUploadedFile("a.bin", b"\x00\x01\x02")]}
    )
    assert r.status_code == 415
    assert api(world.head).post(f"{url}/comments", {"body": ""}).status_code == 422
    ticket = TicketFactory()
    r = api(world.supervisor).post(f"{url}/evidence", {"ticket_id": ticket.pk})
    assert r.status_code == 201 and r.json()["ticket_id"] == ticket.pk
    assert api(world.supervisor).post(f"{url}/evidence", {"ticket_id": ticket.pk}).status_code == 409
    r = api(world.supervisor).post(f"{url}/evidence", {"feedback_item_id": feedback().pk})
    assert r.status_code == 201
    detail = api(world.agent).get(url).json()
    assert len(detail["evidence"]) == 2 and len(detail["comments"]) == 2
