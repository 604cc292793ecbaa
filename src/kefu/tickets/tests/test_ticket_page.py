"""The ticket page: header, timeline, composer, inline edits, transfer, merge, customer 360."""

import json
import re
import struct
import zlib
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.models import Order
from kefu.customers.tests.factories import ProductFactory, ShopFactory
from kefu.tickets import services, workflow
from kefu.tickets.models import Attachment, CustomFieldDefinition, Message, Ticket, Transfer

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def tiny_png() -> bytes:
    """A valid 1×1 transparent PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00\x00\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def team():
    return TeamFactory(name="售后一组")


@pytest.fixture
def agent(team):
    return UserFactory(username="li", display_name="李客服", role="agent", teams=[team])


@pytest.fixture
def ticket(agent, team):
    t, _ = services.create_ticket(
        actor=agent,
        subject="制氧机不出氧",
        description="买了两周就坏了",
        customer_name="王女士",
        customer_identities={"phone": "13800138000"},
        team_id=team.pk,
    )
    return t


def client_for(user, **kwargs) -> Client:
    """A signed-in client reading the English source texts (zh-hans is the default language)."""
    c = Client(HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    c.force_login(user)
    return c


def page_url(t) -> str:
    return f"/tickets/{t.pk}/"


def status_options(html: str) -> list[str]:
    select = re.search(r'<select id="kf-status-to"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(1)) if select else []


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_header_timeline_and_customer_360_to_an_agent_of_the_team(agent, ticket):
    # given a ticket of the agent's team with a reply, and a previous ticket and an order of the customer
    services.add_message(actor=agent, ticket_id=ticket.pk, kind="reply", body="您好，请描述一下故障")
    older, _ = services.create_ticket(actor=agent, subject="上次的咨询", customer=ticket.customer)
    product = ProductFactory(name="制氧机", model_number="OX-5")
    Order.objects.create(
        customer=ticket.customer,
        shop=ShopFactory(name="天猫旗舰店"),
        product=product,
        order_number="TM20260001",
        amount=Decimal("2999.00"),
        ordered_at=timezone.now(),
    )
    # when the agent opens the page
    r = client_for(agent).get(page_url(ticket))
    html = r.content.decode()
    # then header, timeline and the 360 panel are there
    assert r.status_code == 200
    assert ticket.number in html and "制氧机不出氧" in html
    assert 'id="kf-sla-badge"' in html and 'data-testid="ticket-status"' in html
    assert "data-kf-composer" in html and 'name="kind" id="kf-kind-note" value="note"' in html
    assert "kf-timeline-reply" in html and "您好，请描述一下故障" in html
    assert "kf-timeline-event" in html and f"Ticket {ticket.number} created" in html
    assert "王女士" in html and "138 0013 8000" in html  # phone formatted
    assert "TM20260001" in html and "天猫旗舰店" in html and "OX-5" in html
    assert older.number in html and "上次的咨询" in html
    assert 'src="/static/kefu/ticket.js"' in html


def test_a_customer_without_orders_shows_an_empty_state(agent, ticket):
    html = client_for(agent).get(page_url(ticket)).content.decode()
    assert 'data-testid="no-orders"' in html


def test_another_teams_agent_gets_404(ticket):
    stranger = UserFactory(role="agent", teams=[TeamFactory()])
    assert client_for(stranger).get(page_url(ticket)).status_code == 404
    r = client_for(stranger).post(
        f"/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "hi"}, headers=HX
    )
    assert r.status_code == 404
    assert not Message.objects.filter(ticket=ticket).exists()


def test_anonymous_visitors_are_sent_to_sign_in(ticket):
    r = Client().get(page_url(ticket))
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    r = Client().post(f"/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "hi"}, headers=HX)
    assert r["HX-Redirect"].startswith("/login/") and not Message.objects.exists()


def test_without_htmx_a_post_redirects_back_to_the_page(agent, ticket):
    c = client_for(agent)
    r = c.post(f"/tickets/{ticket.pk}/fields/priority/", {"value": "high"})
    assert r.status_code == 302 and r["Location"] == page_url(ticket)
    assert "Priority saved." in c.get(page_url(ticket)).content.decode()
    r = c.post(f"/tickets/{ticket.pk}/status/", {"to": "closed"})
    assert (
        r.status_code == 409 and "<html" in r.content.decode() and "cannot change from" in r.content.decode()
    )


@pytest.mark.parametrize("status", ["new", "open", "pending", "solved", "closed"])
def test_the_status_select_offers_exactly_the_allowed_transitions(agent, ticket, status):
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    html = client_for(agent).get(page_url(ticket)).content.decode()
    assert status_options(html) == workflow.allowed_transitions(status)


def test_times_are_shown_in_the_users_time_zone(agent, ticket):
    created = Ticket.objects.get(pk=ticket.pk).created_at
    agent.time_zone = "America/New_York"
    agent.save()
    html = client_for(agent).get(page_url(ticket)).content.decode()
    local = timezone.localtime(created, timezone=ZoneInfo("America/New_York"))
    assert local.strftime("%Y-%m-%d %H:%M") in html


# --- composer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "css"), [("reply", "kf-timeline-reply"), ("note", "kf-timeline-note")])
def test_reply_and_note_via_htmx_create_message_and_event_and_show_them(agent, ticket, kind, css):
    # when the agent posts through the composer
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/messages/", {"kind": kind, "body": "已为您登记"}, headers=HX
    )
    # then a message and its audit event exist and the returned partial shows them
    assert r.status_code == 200
    msg = Message.objects.get(ticket=ticket, kind=kind)
    assert msg.body == "已为您登记" and msg.author == agent
    assert AuditEvent.objects.filter(
        ticket_id=ticket.pk, verb="ticket.message_added", data__kind=kind
    ).exists()
    html = r.content.decode()
    assert (
        css in html and "已为您登记" in html and 'id="kf-timeline"' in html and 'hx-swap-oob="true"' in html
    )
    label = "Public reply added" if kind == "reply" else "Internal note added"
    assert label in html
    # and the composer comes back empty, in the same mode
    composer = html.split('id="kf-composer"', 1)[1].split("</form>", 1)[0]
    assert "已为您登记" not in composer and f'value="{kind}" checked' in composer
    assert "kf-toast" in r["HX-Trigger"]


def test_a_first_reply_opens_a_new_ticket_and_the_header_follows(agent, ticket):
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "好的"}, headers=HX
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"
    html = r.content.decode()
    assert 'id="kf-ticket-header"' in html and 'id="kf-field-status"' in html
    assert status_options(html) == workflow.allowed_transitions("open")


def test_an_image_attachment_is_previewed_inline(agent, ticket):
    png = SimpleUploadedFile("故障照片.png", tiny_png(), content_type="image/png")
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "", "files": [png]}, headers=HX
    )
    assert r.status_code == 200
    att = Attachment.objects.get(ticket=ticket)
    assert att.content_type == "image/png"
    url = f"/api/v1/tickets/{ticket.pk}/attachments/{att.pk}"
    html = r.content.decode()
    assert re.search(rf'<a href="{url}"[^>]*><img src="{url}" alt="故障照片.png"', html)
    # and the browser session may download it
    assert client_for(agent).get(url).status_code == 200


def test_other_files_are_download_links(agent, ticket):
    txt = SimpleUploadedFile("日志.txt", "错误代码 E5".encode(), content_type="text/plain")
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/messages/", {"kind": "note", "files": [txt]}, headers=HX
    )
    assert r.status_code == 200
    att = Attachment.objects.get(ticket=ticket)
    assert (
        f'href="/api/v1/tickets/{ticket.pk}/attachments/{att.pk}" download="日志.txt"' in r.content.decode()
    )


def test_a_video_attachment_plays_inline(agent, ticket):
    msg = services.add_message(actor=agent, ticket_id=ticket.pk, kind="reply", body="视频")
    Attachment.objects.create(
        ticket=ticket,
        message=msg,
        file=SimpleUploadedFile("v.mp4", b"x"),
        filename="v.mp4",
        content_type="video/mp4",
        size=1,
        sha256="0" * 64,
        created_at=timezone.now(),
    )
    html = client_for(agent).get(page_url(ticket)).content.decode()
    assert "<video controls" in html


@pytest.mark.parametrize(
    ("upload", "status", "text"),
    [
        (lambda: SimpleUploadedFile("a.exe", b"MZ\x90\x00" + bytes(range(256))), 415, "not accepted"),
        (lambda: SimpleUploadedFile("big.txt", b"a" * 2048), 413, "larger than"),
    ],
)
def test_an_invalid_file_is_refused_with_a_message_and_nothing_is_written(
    agent, ticket, settings, upload, status, text
):
    settings.KEFU_MAX_ATTACHMENT_BYTES = 1024
    before = AuditEvent.objects.count()
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/messages/",
        {"kind": "reply", "body": "看附件", "files": [upload()]},
        headers=HX,
    )
    assert r.status_code == status
    html = r.content.decode()
    assert text in html and 'role="alert"' in html and "看附件" in html  # the draft is kept
    assert not Message.objects.filter(ticket=ticket).exists() and not Attachment.objects.exists()
    assert AuditEvent.objects.count() == before


def test_an_empty_message_is_refused(agent, ticket):
    r = client_for(agent).post(f"/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "  "}, headers=HX)
    assert r.status_code == 422
    assert "Write a message or attach a file." in r.content.decode()
    assert not Message.objects.exists()


def test_qa_may_read_but_writing_is_403_with_a_message(ticket):
    qa = UserFactory(role="qa")
    c = client_for(qa)
    page = c.get(page_url(ticket)).content.decode()
    assert "Your role can read this ticket but not write on it." in page
    r = c.post(f"/tickets/{ticket.pk}/messages/", {"kind": "note", "body": "质检备注"}, headers=HX)
    assert r.status_code == 403
    toast = json.loads(r["HX-Trigger"])["kf-toast"]
    assert toast["level"] == "danger" and "ticket.note" in toast["message"]
    r = c.post(f"/tickets/{ticket.pk}/fields/priority/", {"value": "high"})  # without htmx
    assert r.status_code == 403 and "ticket.update" in r.content.decode()
    assert not Message.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).priority == "normal"


# --- inline editing --------------------------------------------------------------------------------


def _updated(ticket):
    return AuditEvent.objects.filter(ticket_id=ticket.pk, verb="ticket.updated").order_by("-id").first()


def test_inline_priority_change_records_an_event_and_re_renders(agent, ticket):
    r = client_for(agent).post(f"/tickets/{ticket.pk}/fields/priority/", {"value": "urgent"}, headers=HX)
    assert r.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).priority == "urgent"
    assert _updated(ticket).data["changes"]["priority"] == {"from": "normal", "to": "urgent"}
    html = r.content.decode()
    assert html.lstrip().startswith('<form id="kf-field-priority"')
    assert 'id="kf-ticket-header"' in html and "Priority: Urgent" in html
    assert "Ticket fields changed: Priority" in html and "Normal → Urgent" in html


def test_inline_assignee_change_offers_team_members_and_records_an_event(agent, team, ticket):
    colleague = UserFactory(display_name="张同事", teams=[team])
    outsider = UserFactory(display_name="外组人员", teams=[TeamFactory()])
    c = client_for(agent)
    html = c.get(page_url(ticket)).content.decode()
    assignee_select = html.split('id="kf-f-assignee"', 1)[1].split("</select>", 1)[0]
    assert (
        "张同事" in assignee_select and "李客服 (me)" in assignee_select and "外组人员" not in assignee_select
    )
    r = c.post(f"/tickets/{ticket.pk}/fields/assignee/", {"value": colleague.pk}, headers=HX)
    assert r.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).assignee == colleague
    assert _updated(ticket).data["changes"]["assignee_id"] == {"from": None, "to": colleague.pk}
    assert "— → 张同事" in r.content.decode()
    # someone outside the team is not offered, and refused by hand
    r = c.post(f"/tickets/{ticket.pk}/fields/assignee/", {"value": outsider.pk}, headers=HX)
    assert r.status_code == 422 and 'role="alert"' in r.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee == colleague


def test_inline_tags_change_records_an_event(agent, ticket):
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/fields/tags/", {"value": "加急， VIP客户,加急"}, headers=HX
    )
    assert r.status_code == 200
    assert sorted(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True)) == ["VIP客户", "加急"]
    assert _updated(ticket).data["changes"]["tags"] == {"from": [], "to": ["VIP客户", "加急"]}


def test_changing_the_team_refreshes_the_assignee_choices(agent, ticket):
    other = TeamFactory(name="投诉组")
    UserFactory(display_name="投诉专员", teams=[other])
    agent.memberships.create(team=other)
    r = client_for(agent).post(f"/tickets/{ticket.pk}/fields/team/", {"value": other.pk}, headers=HX)
    assert r.status_code == 200
    html = r.content.decode()
    assert '<form id="kf-field-assignee"' in html and "投诉专员" in html


def test_inline_custom_field_change_records_an_event(agent, ticket):
    CustomFieldDefinition.objects.create(key="serial_number", label="序列号", field_type="text")
    CustomFieldDefinition.objects.create(key="in_warranty", label="保修期内", field_type="boolean")
    CustomFieldDefinition.objects.create(key="units", label="数量", field_type="number")
    c = client_for(agent)
    html = c.get(page_url(ticket)).content.decode()
    assert 'id="kf-cf-units" name="cf_units"' in html and 'type="number"' in html
    r = c.post(
        f"/tickets/{ticket.pk}/fields/custom/",
        {"cf_serial_number": "SN-001", "cf_in_warranty": "true", "cf_units": "2"},
        headers=HX,
    )
    assert r.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).custom_fields == {
        "serial_number": "SN-001",
        "in_warranty": True,
        "units": 2,
    }
    assert _updated(ticket).data["fields"] == "custom_fields"
    assert "序列号: — → SN-001" in r.content.decode()
    # a wrong type is refused inline
    r = c.post(f"/tickets/{ticket.pk}/fields/custom/", {"cf_units": "many"}, headers=HX)
    assert r.status_code == 422 and "is-invalid" in r.content.decode()


def test_an_unknown_field_is_404(agent, ticket):
    r = client_for(agent).post(f"/tickets/{ticket.pk}/fields/status/", {"value": "closed"}, headers=HX)
    assert r.status_code == 404


# --- status ----------------------------------------------------------------------------------------


def test_a_valid_transition_with_comment_changes_status_and_adds_a_note(agent, ticket):
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/status/", {"to": "pending", "comment": "等客户回复照片"}, headers=HX
    )
    assert r.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"
    html = r.content.decode()
    assert "Status changed from New to Pending (waiting on customer)" in html and "等客户回复照片" in html
    assert status_options(html) == workflow.allowed_transitions("pending")


def test_an_invalid_transition_posted_by_hand_is_409_and_changes_nothing(agent, ticket):
    r = client_for(agent).post(f"/tickets/{ticket.pk}/status/", {"to": "closed"}, headers=HX)
    assert r.status_code == 409
    assert "cannot change from “New” to “Closed”" in r.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    assert not AuditEvent.objects.filter(verb="ticket.status_changed").exists()
    r = client_for(agent).post(f"/tickets/{ticket.pk}/status/", {"to": "bogus"}, headers=HX)
    assert r.status_code == 422


# --- transfer and merge ----------------------------------------------------------------------------


def test_transfer_to_a_department_with_a_reply_by_time_in_the_users_zone(agent, ticket):
    dept = DepartmentFactory(name="物流部")
    reply_by = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/transfer/",
        {"department": dept.pk, "note": "请核实物流", "reply_by": reply_by.strftime("%Y-%m-%dT%H:%M")},
        headers=HX,
    )
    assert r.status_code == 200
    transfer = Transfer.objects.get(ticket=ticket)
    assert transfer.to_department == dept and transfer.reply_by == reply_by  # Asia/Shanghai → aware
    assert Ticket.objects.get(pk=ticket.pk).status == "on_hold"
    html = r.content.decode()
    assert "Transferred to 物流部" in html and 'id="kf-fields"' in html and "请核实物流" in html


def test_transfer_with_a_team_of_another_department_is_refused(agent, ticket):
    dept = DepartmentFactory()
    r = client_for(agent).post(
        f"/tickets/{ticket.pk}/transfer/", {"department": dept.pk, "team": TeamFactory().pk}, headers=HX
    )
    assert r.status_code == 422 and "is not a team of" in r.content.decode()
    assert not Transfer.objects.exists()


def test_merge_by_number_redirects_to_the_target(agent, ticket):
    target, _ = services.create_ticket(actor=agent, subject="同一问题", customer=ticket.customer)
    c = client_for(agent)
    r = c.post(f"/tickets/{ticket.pk}/merge/", {"target": target.number.lower()}, headers=HX)
    assert r.status_code == 200
    assert r["HX-Redirect"] == f"/tickets/{target.pk}/"
    assert Ticket.objects.get(pk=ticket.pk).merged_into == target
    page = c.get(f"/tickets/{target.pk}/").content.decode()
    assert f"{ticket.number} was merged into {target.number}" in page


def test_merge_into_an_unknown_or_the_same_ticket_is_refused(agent, ticket):
    c = client_for(agent)
    r = c.post(f"/tickets/{ticket.pk}/merge/", {"target": "T2099010199999"}, headers=HX)
    assert r.status_code == 422 and "There is no ticket" in r.content.decode()
    r = c.post(f"/tickets/{ticket.pk}/merge/", {"target": str(ticket.pk)}, headers=HX)
    assert r.status_code == 422 and "cannot be merged into itself" in r.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).merged_into is None


# --- safety and performance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("messages/", {"kind": "reply", "body": "hi"}),
        ("status/", {"to": "open"}),
        ("fields/priority/", {"value": "high"}),
        ("transfer/", {"department": 1}),
        ("merge/", {"target": "1"}),
    ],
)
def test_every_post_needs_the_csrf_token(agent, ticket, url, data):
    c = client_for(agent, enforce_csrf_checks=True)
    assert c.post(f"/tickets/{ticket.pk}/{url}", data, headers=HX).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == "new" and not Message.objects.exists()


def test_get_is_not_allowed_on_actions(agent, ticket):
    assert client_for(agent).get(f"/tickets/{ticket.pk}/status/").status_code == 405


def test_user_text_is_escaped(agent, ticket):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    Ticket.objects.filter(pk=ticket.pk).update(subject=evil, description=evil)
    services.add_message(actor=agent, ticket_id=ticket.pk, kind="note", body=evil)
    services.update_ticket(actor=agent, ticket_id=ticket.pk, changes={"tags": ["<b>x</b>"]})
    html = client_for(agent).get(page_url(ticket)).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def _busy_ticket(agent, team, n):
    t, _ = services.create_ticket(
        actor=agent,
        subject=f"忙碌工单{n}",
        customer_name="赵先生",
        customer_identities={"phone": "13900139000"},
        team_id=team.pk,
    )
    colleague = UserFactory(teams=[team])
    for i in range(n):
        png = SimpleUploadedFile(f"p{i}.png", tiny_png())
        client_for(agent).post(
            f"/tickets/{t.pk}/messages/", {"kind": "reply", "body": f"回复{i}", "files": [png]}
        )
        services.add_message(actor=agent, ticket_id=t.pk, kind="note", body=f"备注{i}")
        services.update_ticket(
            actor=agent,
            ticket_id=t.pk,
            changes={"priority": ["high", "low"][i % 2], "assignee_id": [colleague.pk, agent.pk][i % 2]},
        )
    return t


def test_the_page_needs_a_bounded_number_of_queries_whatever_the_timeline_length(agent, team):
    small, big = _busy_ticket(agent, team, 3), _busy_ticket(agent, team, 30)
    counts = []
    c = client_for(agent)
    for t in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(page_url(t))
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    html = r.content.decode()
    assert html.count("kf-timeline-reply") == 30 and html.count("<img src=") == 30
    assert counts[0] == counts[1] and counts[1] <= 20, counts


def test_the_header_loads_the_sla_badges_and_refreshes_them_every_minute(agent, ticket):
    html = client_for(agent).get(page_url(ticket)).content.decode()
    slot = re.search(r'<span id="kf-sla-badge"[^>]*>', html, re.S).group(0)
    assert f'hx-get="/sla/tickets/{ticket.pk}/panel/"' in slot and 'hx-trigger="load, every 60s"' in slot
    assert "<script>" not in html.split('id="kf-ticket-header"')[1].split("</header>")[0]


def test_closing_a_ticket_replaces_the_composer(agent, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status="solved")
    r = client_for(agent).post(f"/tickets/{ticket.pk}/status/", {"to": "closed"}, headers=HX)
    assert r.status_code == 200
    html = r.content.decode()
    assert '<section id="kf-composer"' in html and "This ticket is closed" in html
    assert status_options(html) == []


def test_transfer_reply_by_is_shown_in_the_timeline_in_the_users_zone():
    # given a ticket transferred to 品控 with a reply-by time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.test import Client

    from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
    from kefu.tickets import services

    team = TeamFactory()
    agent = UserFactory(role="agent", teams=[team])
    t, _ = services.create_ticket(
        actor=agent, subject="批次问题", customer_identities={"phone": "13300133000"}
    )
    qc = DepartmentFactory(name="品控")
    due = datetime(2099, 3, 1, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    services.transfer_ticket(actor=agent, ticket_id=t.pk, department_id=qc.pk, reply_by=due)
    # when the agent opens the ticket page
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(agent)
    page = c.get(f"/tickets/{t.pk}/").content.decode()
    # then the transfer shows its reply-by time in Asia/Shanghai
    assert "reply by 2099-03-01 17:30" in page
