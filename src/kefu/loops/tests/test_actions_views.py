"""Action pages as people use them: list (filters, overdue first, export), new form prefilled from an
insight, detail with buttons by role, commit/transition/comment forms, the owner's page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.loops.models import ImprovementAction
from kefu.loops.tests.test_actions import events_of, make_action, noise_insight, world  # noqa: F401

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def client(user):
    c = Client(**EN)
    c.force_login(user)
    return c


def test_list_overdue_first_filters_and_export(world):  # noqa: F811
    with time_machine.travel(datetime(2026, 11, 10, 10, 0, tzinfo=SH), tick=False):
        old = make_action(world, title="旧的")
    with time_machine.travel(NOW, tick=False):
        new = make_action(world, title="新的", department_id=world.logistics.pk)
        c = client(world.agent)
        r = c.get("/loops/")
        # then the overdue action comes first, flagged overdue
        assert r.status_code == 200
        html = r.content.decode()
        assert html.index(old.number) < html.index(new.number)
        assert 'data-testid="action-overdue"' in html
        r = c.get("/loops/", {"department": world.logistics.pk})
        assert old.number not in r.content.decode() and new.number in r.content.decode()
        r = c.get("/loops/", {"overdue": "on"})
        assert old.number in r.content.decode() and new.number not in r.content.decode()
        r = c.get("/loops/", {"format": "csv"})
        assert r.status_code == 200 and "新的" in r.content.decode("utf-8-sig")
        r = c.get("/loops/", {"format": "xlsx"})
        assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert Client().get("/loops/").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_new_action_from_insight(world):  # noqa: F811
    insight = noise_insight(2)
    c = client(world.supervisor)
    # the form is prefilled from the insight
    r = c.get("/loops/actions/new/", {"insight": insight.pk})
    assert r.status_code == 200 and "制氧机 噪音" in r.content.decode()
    # posting without a department shows the error and creates nothing
    r = c.post("/loops/actions/new/", {"title": "噪音", "problem": "吵", "insight": insight.pk})
    assert r.status_code == 422 and 'data-testid="field-error-department"' in r.content.decode()
    r = c.post(
        "/loops/actions/new/",
        {"title": "噪音", "problem": "吵", "department": world.qc.pk, "insight": insight.pk, "metric": ""},
    )
    action = ImprovementAction.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/loops/actions/{action.pk}/"
    assert action.insight == insight and action.evidence.count() == 2
    # an agent may not open the form
    assert client(world.agent).get("/loops/actions/new/").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_detail_buttons_and_forms(world):  # noqa: F811
    action = make_action(world)
    url = f"/loops/actions/{action.pk}/"
    # the head sees accept/reject and the commit form; an agent sees neither
    html = client(world.head).get(url).content.decode()
    assert 'data-testid="move-accepted"' in html and 'data-testid="commit-form"' in html
    html = client(world.agent).get(url).content.decode()
    assert 'data-testid="move-accepted"' not in html and 'data-testid="commit-form"' not in html
    assert 'data-testid="action-timeline"' in html and "created" in html
    # the head commits a date through the form
    r = client(world.head).post(url + "commit/", {"date": "2026-12-05"}, follow=True)
    assert "Fix date committed." in r.content.decode()
    action.refresh_from_db()
    assert action.status == "accepted" and str(action.committed_date) == "2026-12-05"
    # a past date comes back as an error message, nothing changes
    r = client(world.head).post(url + "commit/", {"date": "2020-01-01"}, follow=True)
    assert "cannot be in the past" in r.content.decode()
    # another department's head may not move it
    r = client(world.log_head).post(url + "transition/", {"to": "in_progress"}, follow=True)
    action.refresh_from_db()
    assert action.status == "accepted"
    r = client(world.head).post(url + "transition/", {"to": "in_progress"})
    action.refresh_from_db()
    assert action.status == "in_progress"
    # a comment with a file; the attachment downloads
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    client(world.head).post(url + "comments/", {"body": "进展", "files": [SimpleUploadedFile("p.png", png)]})
    html = client(world.agent).get(url).content.decode()
    assert "进展" in html and 'data-testid="attachment"' in html
    att = action.attachments.get()
    r = client(world.agent).get(f"{url}attachments/{att.pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == png
    # an executive claims
    client(world.exec).post(url + "claim/")
    assert 'data-testid="action-claimed"' in client(world.agent).get(url).content.decode()
    # a milestone is added and done
    client(world.head).post(url + "milestones/", {"title": "换风扇"})
    ms = action.milestones.get()
    client(world.head).post(url + "milestones/", {"milestone_id": ms.pk, "done": "1"})
    ms.refresh_from_db()
    assert ms.done_at is not None
    assert client(world.agent).get("/loops/actions/99999/").status_code == 404


def test_owner_page_lists_the_departments_open_actions(world):  # noqa: F811
    with time_machine.travel(datetime(2026, 11, 10, 10, 0, tzinfo=SH), tick=False):
        late = make_action(world, title="超期")
    with time_machine.travel(NOW, tick=False):
        mine = make_action(world, title="待接受")
        other = make_action(world, title="物流的", department_id=world.logistics.pk)
        html = client(world.head).get("/loops/mine/").content.decode()
    assert late.number in html and mine.number in html and other.number not in html
    assert html.index(late.number) < html.index(mine.number)
    assert 'data-step="commit"' in html
    html = client(world.agent).get("/loops/mine/").content.decode()
    assert 'data-testid="no-department"' in html
