from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.tickets import services
from kefu.tickets.models import Ticket, Transfer
from kefu.tickets.tests.test_services import PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(department=DepartmentFactory(name="客服中心", code="cs"))


@pytest.fixture
def agent(team):
    return UserFactory(role="agent", department=team.department, teams=[team])


def create(client, headers=None, **body):
    body.setdefault("subject", "制氧机噪音大")
    body.setdefault("customer", {"name": "张三", "phone": "138 0013 8000"})
    return client.post("tickets", body, **(headers or {}))


class TestCreateAndRead:
    def test_readme_flow_create_reply_invalid_transition_solve_events(self, api, agent):
        c = api(agent)
        # given a customer known only by a phone number typed with spaces
        r = create(c, type="complaint", channel="phone", description="晚上声音很大")
        assert r.status_code == 201, r.content
        t = r.json()
        assert t["status"] == "new" and t["number"].startswith("T") and t["customer"]["name"] == "张三"
        # when the agent replies
        r = c.post(f"tickets/{t['id']}/messages", {"body": "您好，已为您安排检测"})
        assert r.status_code == 201 and r.json()["kind"] == "reply"
        # and tries an invalid transition
        r = c.post(f"tickets/{t['id']}/transition", {"to": "closed"})
        assert r.status_code == 409
        assert r.json()["code"] == "invalid_transition" and r.json()["allowed"] == [
            "pending",
            "on_hold",
            "solved",
        ]
        # then solves it and reads its events
        r = c.post(f"tickets/{t['id']}/transition", {"to": "solved"})
        assert r.status_code == 200 and r.json()["status"] == "solved"
        r = c.get(f"tickets/{t['id']}/events")
        assert [e["verb"] for e in r.json()] == [
            "ticket.created", "ticket.message_added", "ticket.status_changed", "ticket.status_changed",
        ]  # fmt: skip
        assert r.json()[-1]["data"] == {"from": "open", "to": "solved"} and r.json()[-1]["source"] == "api"
        assert r.json()[-1]["text"]

    def test_error_messages_follow_the_request_language_and_codes_do_not(self, api, agent):
        c = api(agent)
        tid = create(c).json()["id"]  # a new ticket cannot go straight to closed
        # when the same invalid transition is asked with no language (the default, zh-hans) and in English
        zh = c.post(f"tickets/{tid}/transition", {"to": "closed"})
        en = c.post(f"tickets/{tid}/transition", {"to": "closed"}, HTTP_ACCEPT_LANGUAGE="en")
        # then the message is Chinese by default and English on request
        assert (zh.status_code, en.status_code) == (409, 409)
        assert zh.json()["message"].startswith("无法将状态从“new”更改为“closed”")
        assert en.json()["message"].startswith("Cannot change status from new to closed; allowed: ")
        # and the machine contract (code, field, allowed, current) is the same in both languages
        assert {k: v for k, v in zh.json().items() if k != "message"} == {
            k: v for k, v in en.json().items() if k != "message"
        }
        assert zh.json()["code"] == "invalid_transition" and zh.json()["field"] == "to"
        assert zh.json()["allowed"] and zh.json()["allowed"] == en.json()["allowed"]

    def test_idempotency_key_header_and_external_id_return_200_with_the_first(self, api, agent):
        c = api(agent)
        first = create(c, headers={"HTTP_IDEMPOTENCY_KEY": "abc"})
        again = create(c, subject="重复提交", headers={"HTTP_IDEMPOTENCY_KEY": "abc"})
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        a, b = create(c, external_id="ERP-9"), create(c, external_id="ERP-9")
        assert (a.status_code, b.status_code) == (201, 200) and a.json()["id"] == b.json()["id"]
        assert Ticket.objects.count() == 2

    @pytest.mark.parametrize(
        ("body", "status", "field"),
        [
            ({"subject": ""}, 422, "subject"),
            ({"type": "bogus"}, 422, "type"),
            ({"customer": {"phone": "110"}}, 422, "customer.phone"),
            ({"customer": {"phone": "13800138000", "nick": "x"}}, 422, "customer.nick"),
            ({"colour": "red"}, 422, "colour"),
            ({"subject": 12}, 422, "subject"),
            ({"tags": "not-a-list"}, 422, "tags"),
            ({"customer": None}, 422, "customer"),
            ({"customer_id": 99999}, 404, "customer_id"),
        ],
    )
    def test_bad_input_is_4xx_naming_the_field(self, api, agent, body, status, field):
        r = create(api(agent), **body)
        assert r.status_code == status, r.content
        assert r.json()["field"] == field and r.json()["message"] and r.json()["code"]
        assert Ticket.objects.count() == 0

    def test_malformed_json_is_400(self, api, agent):
        r = api(agent).client.post("/api/v1/tickets", "{nope", content_type="application/json")
        assert r.status_code == 400 and r.json()["code"] == "malformed_json"

    def test_no_token_is_401_and_bad_token_is_401(self, api, agent):
        assert api().get("tickets").status_code == 401
        bad = api()
        bad.client.defaults["HTTP_AUTHORIZATION"] = "Bearer kefu_nope"
        assert bad.get("tickets").status_code == 401

    def test_patch_changes_fields_and_rejects_unknown(self, api, agent):
        c = api(agent)
        tid = create(c).json()["id"]
        r = c.patch(f"tickets/{tid}", {"priority": "high", "tags": ["噪音"]})
        assert r.status_code == 200 and r.json()["priority"] == "high" and r.json()["tags"] == ["噪音"]
        assert c.patch(f"tickets/{tid}", {"status": "solved"}).status_code == 422
        assert c.patch(f"tickets/{tid}", {"priority": "whenever"}).json()["field"] == "priority"

    def test_multipart_message_with_files_and_download(self, api, agent):
        c = api(agent)
        tid = create(c).json()["id"]
        r = c.multipart(
            f"tickets/{tid}/messages",
            {"kind": "note", "body": "客户发来的照片", "files": [SimpleUploadedFile("现场.png", PNG)]},
        )
        assert r.status_code == 201, r.content
        att = r.json()["attachments"][0]
        assert att["content_type"] == "image/png" and att["filename"] == "现场.png"
        dl = c.client.get(att["url"])
        assert (
            dl.status_code == 200
            and b"".join(dl.streaming_content) == PNG
            and dl["Content-Type"] == "image/png"
        )

    def test_multipart_refuses_unsniffable_binary_with_415(self, api, agent):
        c = api(agent)
        tid = create(c).json()["id"]
        r = c.multipart(
            f"tickets/{tid}/messages",
            {"body": "x", "files": [SimpleUploadedFile("a.png", b"\x00\x01\x02" * 50)]},
        )
        assert r.status_code == 415 and r.json()["field"] == "files"
        assert not AuditEvent.objects.filter(verb="ticket.message_added").exists()

    def test_transfer_endpoint(self, api, agent):
        c = api(agent)
        tid = create(c).json()["id"]
        qc = DepartmentFactory(name="品控")
        r = c.post(
            f"tickets/{tid}/transfer",
            {"department_id": qc.pk, "note": "请确认", "reply_by": "2099-01-01T10:00:00+08:00"},
        )
        assert r.status_code == 201 and r.json()["to_department"]["name"] == "品控"
        assert (
            c.post(
                f"tickets/{tid}/transfer", {"department_id": qc.pk, "reply_by": "2000-01-01T00:00:00Z"}
            ).json()["field"]
            == "reply_by"
        )


class TestList:
    def test_filters_and_keyset_pagination(self, api, agent):
        c = api(agent)
        ids = [
            create(c, subject=f"咨询{i}", type="repair" if i % 2 else "inquiry").json()["id"]
            for i in range(7)
        ]
        page1 = c.get("tickets", limit=3).json()
        assert [t["id"] for t in page1["items"]] == ids[::-1][:3]
        page2 = c.get("tickets", limit=3, cursor=page1["next_cursor"]).json()
        assert [t["id"] for t in page2["items"]] == ids[::-1][3:6]
        page3 = c.get("tickets", limit=3, cursor=page2["next_cursor"]).json()
        assert len(page3["items"]) == 1 and page3["next_cursor"] is None
        repairs = c.get("tickets", type="repair").json()["items"]
        assert {t["type"] for t in repairs} == {"repair"} and len(repairs) == 3
        assert c.get("tickets", q="咨询3").json()["items"][0]["subject"] == "咨询3"
        assert c.get("tickets", status="bogus").status_code == 422

    def test_list_query_count_does_not_grow_with_page_size(self, api, agent):
        c = api(agent)
        for i in range(3):
            create(c, subject=f"a{i}", tags=["x", "y"])
        with CaptureQueriesContext(connection) as small:
            c.get("tickets", limit=3)
        for i in range(20):
            create(c, subject=f"b{i}", tags=["x"])
        with CaptureQueriesContext(connection) as big:
            c.get("tickets", limit=23)
        assert len(big) == len(small) <= 5

    def test_sla_filters_the_due_sort_and_the_sla_columns(self, api, agent):
        # given tickets whose SLA columns (written by kefu.sla) say: due in 1 h, overdue, breached
        # but solved, due in 5 h, none
        c = api(agent)
        now = timezone.now()
        ids = [create(c, subject=f"投诉{i}").json()["id"] for i in range(5)]
        columns = [
            (now + timedelta(hours=1), False),
            (now - timedelta(minutes=5), False),  # past due, not yet marked by the scan
            (now - timedelta(hours=1), True),
            (now + timedelta(hours=5), False),
            (None, False),
        ]
        for pk, (due, breached) in zip(ids, columns, strict=True):
            Ticket.objects.filter(pk=pk).update(sla_due_at=due, sla_breached=breached)
        Ticket.objects.filter(pk=ids[2]).update(status="solved")
        # then the filters pick new/open tickets only, and the due sort puts undated ones last
        assert [t["id"] for t in c.get("tickets", sla="due_soon").json()["items"]] == [ids[1], ids[0]]
        assert [t["id"] for t in c.get("tickets", sla="breached").json()["items"]] == [ids[1]]
        page = c.get("tickets", sort="due", limit=2).json()
        assert [t["id"] for t in page["items"]] == [ids[2], ids[1]]
        rest = c.get("tickets", sort="due", cursor=page["next_cursor"]).json()["items"]
        assert [t["id"] for t in rest] == [ids[0], ids[3], ids[4]]
        # and each ticket carries its SLA columns
        first = rest[0]
        assert first["sla_breached"] is False and first["sla_due_at"] is not None
        assert rest[-1]["sla_due_at"] is None
        # and bad values are 422 naming the field
        for params, field in (({"sla": "late"}, "sla"), ({"sort": "priority"}, "sort")):
            r = c.get("tickets", **params)
            assert r.status_code == 422 and r.json()["field"] == field

    def test_the_due_sort_needs_no_more_queries(self, api, agent):
        c = api(agent)
        for i in range(6):
            create(c, subject=f"a{i}", tags=["x"])
        Ticket.objects.filter(subject__in=["a0", "a1", "a2"]).update(sla_due_at=timezone.now())
        with CaptureQueriesContext(connection) as q:
            assert len(c.get("tickets", sort="due", limit=5).json()["items"]) == 5
        # token, the dated part, the undated part, tags: within the newest-first list's bound
        assert len(q) <= 5, [x["sql"] for x in q.captured_queries]


# --- permission matrix ------------------------------------------------------------------------------
# A ticket of team A (客服中心), transferred to 品控. Expected HTTP codes per role:
# list-contains, GET detail, GET events, PATCH, POST reply, POST transition, POST transfer.
# A role that may not do an action at all gets 403; one that may but cannot see the ticket gets 404.
ROLES = {
    "agent_in_team": (True, 200, 200, 200, 201, 200, 201),
    "agent_other_team": (False, 404, 404, 404, 404, 404, 404),
    "supervisor_same_dept": (True, 200, 200, 200, 201, 200, 201),
    "supervisor_other_dept": (False, 404, 404, 404, 404, 404, 404),
    "owner_transferred_to": (True, 200, 200, 200, 403, 200, 403),
    "owner_not_involved": (False, 404, 404, 404, 403, 404, 403),
    "qa": (True, 200, 200, 403, 403, 403, 403),
    "knowledge_editor": (False, 404, 404, 403, 403, 403, 403),
    "executive": (True, 200, 200, 200, 201, 200, 201),
    "admin": (True, 200, 200, 200, 201, 200, 201),
}


@pytest.fixture
def world(team, agent):
    other_team = TeamFactory(department=DepartmentFactory(name="外部", code="ext"))
    qc = DepartmentFactory(name="品控", code="qc")
    ticket, _ = services.create_ticket(
        actor=agent, subject="漏水", customer_identities={"phone": "13700137000"}
    )
    Transfer.objects.create(ticket=ticket, to_department=qc, created_at=ticket.created_at)
    users = {
        "agent_in_team": UserFactory(role="agent", teams=[team]),
        "agent_other_team": UserFactory(role="agent", teams=[other_team]),
        "supervisor_same_dept": UserFactory(role="supervisor", department=team.department),
        "supervisor_other_dept": UserFactory(role="supervisor", department=other_team.department),
        "owner_transferred_to": UserFactory(role="department_owner", department=qc),
        "owner_not_involved": UserFactory(role="department_owner", department=DepartmentFactory()),
        "qa": UserFactory(role="qa"),
        "knowledge_editor": UserFactory(role="knowledge_editor"),
        "executive": UserFactory(role="executive"),
        "admin": UserFactory(role="admin"),
    }
    return ticket, users, qc


@pytest.mark.parametrize("role", list(ROLES))
def test_permission_matrix(api, world, role):
    # given the ticket and a user of `role`; when they call each endpoint; then the codes match the matrix
    ticket, users, qc = world
    listed, detail, events, patch, reply, transition, transfer = ROLES[role]
    c = api(users[role])
    t = f"tickets/{ticket.pk}"
    got = (
        ticket.pk in [x["id"] for x in c.get("tickets").json()["items"]],
        c.get(t).status_code,
        c.get(f"{t}/events").status_code,
        c.patch(t, {"priority": "high"}).status_code,
        c.post(f"{t}/messages", {"body": "回复"}).status_code,
        c.post(f"{t}/transition", {"to": "pending"}).status_code,
        c.post(f"{t}/transfer", {"department_id": qc.pk}).status_code,
    )
    assert got == ROLES[role]


class TestLimits:
    def test_oversized_json_body_is_413(self, api, agent, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        r = create(api(agent), description="很" * 2000)
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        assert Ticket.objects.count() == 0

    def test_oversized_file_is_413_and_nothing_is_written(self, api, agent, settings):
        c = api(agent)
        tid = create(c).json()["id"]
        settings.KEFU_MAX_ATTACHMENT_BYTES = 50
        r = c.multipart(
            f"tickets/{tid}/messages", {"body": "大文件", "files": [SimpleUploadedFile("a.png", PNG)]}
        )
        assert r.status_code == 413 and r.json()["code"] == "file_too_large"
        assert not Ticket.objects.get(pk=tid).messages.exists()

    def test_admin_pages_render_for_an_admin(self, agent):
        from django.test import Client

        admin_user = UserFactory(role="admin", is_staff=True, is_superuser=True)
        services.create_ticket(actor=agent, subject="后台查看", customer_identities={"phone": "13500135000"})
        c = Client()
        c.force_login(admin_user)
        for url in (
            "/admin/",
            "/admin/tickets/ticket/",
            "/admin/customers/customer/",
            "/admin/accounts/user/",
        ):
            assert c.get(url).status_code == 200, url
