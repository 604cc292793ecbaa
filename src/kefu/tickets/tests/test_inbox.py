"""The inbox: views (tabs) and counts, filters, keyset pages, bulk actions, live refresh, query bounds."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.tests.factories import ProductFactory, ShopFactory
from kefu.tickets import selectors, services
from kefu.tickets.models import Ticket, Transfer
from kefu.tickets.selectors import TicketFilters
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

LIST = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "kf-inbox-list"}


@pytest.fixture(autouse=True)
def _fresh_counts_cache():
    cache.clear()  # tab counts are cached per user; user ids repeat between tests


def make(actor, *, team=None, assignee=None, subject="制氧机噪音大", status=None, **kw):
    """A ticket built through the service (with its audit trail), moved to `status` if given."""
    ticket, _ = services.create_ticket(
        actor=actor,
        subject=subject,
        customer_identities={"phone": kw.pop("phone", "13800138000")},
        team_id=team.pk if team else None,
        assignee_id=assignee.pk if assignee else None,
        **kw,
    )
    path = {"pending": ["pending"], "solved": ["solved"], "closed": ["solved", "closed"]}.get(status, [])
    for to in path:
        services.transition_ticket(actor=actor, ticket_id=ticket.pk, to=to)
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def org():
    cs = DepartmentFactory(name="客服部", code="cs")
    qc = DepartmentFactory(name="品质部", code="qc")
    hotline = TeamFactory(name="热线组", department=cs)
    online = TeamFactory(name="在线组", department=cs)
    qc_team = TeamFactory(name="品质组", department=qc)
    agent = UserFactory(username="xiaoyan", display_name="张晓燕", department=cs, teams=[hotline])
    mate = UserFactory(username="mingxuan", display_name="李明轩", department=cs, teams=[hotline])
    outsider = UserFactory(username="haoz", display_name="郑浩", department=cs, teams=[online])
    admin = UserFactory(username="boss", role="admin")
    return SimpleNamespace(
        cs=cs, qc=qc, hotline=hotline, online=online, qc_team=qc_team,
        agent=agent, mate=mate, outsider=outsider, admin=admin,
    )  # fmt: skip


@pytest.fixture
def tickets(org):
    """One ticket per situation an agent of the hotline team meets, plus two of another team."""
    a = org.agent
    return SimpleNamespace(
        mine=make(a, team=org.hotline, assignee=a, subject="我的工单"),
        mine_solved=make(a, team=org.hotline, assignee=a, subject="我已解决", status="solved"),
        unassigned=make(a, team=org.hotline, subject="没人管"),
        mates=make(a, team=org.hotline, assignee=org.mate, subject="同事的"),
        pending=make(a, team=org.hotline, assignee=org.mate, subject="等顾客", status="pending"),
        foreign=make(org.outsider, team=org.online, assignee=org.outsider, subject="别组的"),
        foreign_unassigned=make(org.outsider, team=org.online, subject="别组没人管"),
    )


def client_for(user, **extra):
    c = Client(HTTP_ACCEPT_LANGUAGE="en", **extra)
    c.force_login(user)
    return c


def shown(response):
    return [t.pk for t in response.context["tickets"]]


def ids(*tickets):
    return sorted(t.pk for t in tickets)


class TestViews:
    @pytest.mark.parametrize(
        ("view", "expected"),
        [
            ("mine", ["mine"]),
            ("unassigned", ["unassigned"]),
            ("team", ["mine", "unassigned", "mates", "pending"]),
            ("pending", ["pending"]),
            ("all", ["mine", "mine_solved", "unassigned", "mates", "pending"]),
        ],
    )
    def test_each_view_shows_the_agents_tickets_and_never_another_teams(self, org, tickets, view, expected):
        # given tickets of the agent's team and of another team
        # when the agent opens a view of the inbox
        r = client_for(org.agent).get("/tickets/", {"view": view})
        # then exactly the expected tickets are listed, newest first, none of the other team's
        assert r.status_code == 200
        assert shown(r) == sorted((getattr(tickets, k).pk for k in expected), reverse=True)
        body = r.content.decode()
        assert tickets.foreign.number not in body and tickets.foreign_unassigned.number not in body

    def test_the_default_view_is_mine_for_agents_and_all_for_admins(self, org, tickets):
        # given an agent and an admin; when they open /tickets/ without a view
        agent_page = client_for(org.agent).get("/tickets/")
        admin_page = client_for(org.admin).get("/tickets/")
        # then the agent sees their own open tickets and the admin sees every ticket
        assert agent_page.context["view"] == "mine" and shown(agent_page) == [tickets.mine.pk]
        assert admin_page.context["view"] == "all" and len(shown(admin_page)) == 7

    def test_a_supervisor_sees_unassigned_tickets_of_their_departments_teams(self, org, tickets):
        # given a supervisor of the customer-service department who is in no team
        boss = UserFactory(role="supervisor", department=org.cs)
        # when they open "unassigned"
        r = client_for(boss).get("/tickets/", {"view": "unassigned"})
        # then unassigned tickets of every team of the department are listed
        assert sorted(shown(r)) == ids(tickets.unassigned, tickets.foreign_unassigned)

    def test_signing_in_is_required(self, client):
        # given an anonymous visitor; when they open the inbox; then they are sent to sign in
        r = client.get("/tickets/")
        assert r.status_code == 302 and r["Location"].startswith("/login/")


class TestCounts:
    def test_tabs_count_each_view_in_one_query(self, org, tickets):
        # given the scenery; when the agent's counts are read
        with CaptureQueriesContext(connection) as q:
            counts = selectors.count_inbox_views(actor=org.agent)
        # then every view is counted, in a single query
        assert counts == {
            "mine": 1, "unassigned": 1, "team": 4, "pending": 1, "due": 0, "breached": 0, "all": 5,
        }  # fmt: skip
        assert len(q.captured_queries) == 1

    def test_tabs_show_counts_including_the_sla_views(self, org, tickets):
        # given the scenery (no SLA clocks); when the agent opens the inbox in English
        r = client_for(org.agent).get("/tickets/")
        body = r.content.decode()
        # then each tab shows its count, the SLA views too, and none is disabled
        tabs = {t["key"]: t for t in r.context["tabs"]}
        assert {k: tabs[k]["count"] for k in selectors.INBOX_VIEWS} == {
            "mine": "1", "unassigned": "1", "team": "4", "pending": "1", "due": "0", "breached": "0",
            "all": "5",
        }  # fmt: skip
        assert not any(t.get("disabled") for t in tabs.values())
        assert "Due soon" in body and "SLA breached" in body and 'aria-disabled="true"' not in body
        # and the SLA tabs link to their view without a sort (they default to due time)
        assert tabs["due"]["url"] == "/tickets/?view=due"
        assert tabs["breached"]["url"] == "/tickets/?view=breached"

    def test_counts_are_capped(self, org, tickets, monkeypatch):
        # given a cap of 2
        monkeypatch.setattr("kefu.tickets.selectors.inbox.COUNT_CAP", 2)
        # when the counts are read; then a view over the cap counts cap + 1 and shows "2+"
        counts = selectors.count_inbox_views(actor=org.agent)
        assert counts["team"] == 3 and counts["all"] == 3 and counts["mine"] == 1
        r = client_for(org.agent).get("/tickets/")
        assert {t["key"]: t.get("count") for t in r.context["tabs"]}["team"] == "2+"

    def test_an_inactive_user_counts_nothing(self, org, tickets):
        org.agent.is_active = False
        assert set(selectors.count_inbox_views(actor=org.agent).values()) == {0}


class TestFilters:
    @pytest.fixture
    def varied(self, org):
        a, team = org.agent, org.hotline
        product, shop = ProductFactory(), ShopFactory()
        return SimpleNamespace(
            product=product,
            shop=shop,
            complaint=make(a, team=team, assignee=a, type="complaint", priority="urgent", channel="phone"),
            repair=make(a, team=team, type="repair", channel="tmall", product_id=product.pk, shop_id=shop.pk),
            tagged=make(a, team=team, assignee=org.mate, subject="屏幕不亮", tags=["VIP"], status="pending"),
            solved=make(a, team=org.hotline, subject="已解决的", status="solved"),
        )

    def query(self, org, **params):
        r = client_for(org.agent).get("/tickets/", {"view": "all", **params})
        assert r.status_code == 200, r.content.decode()[:500]
        return sorted(shown(r))

    def test_each_filter(self, org, varied):
        v = varied
        assert self.query(org, status="pending") == ids(v.tagged)
        assert self.query(org, status="solved") == ids(v.solved)
        assert self.query(org, type="complaint") == ids(v.complaint)
        assert self.query(org, priority="urgent") == ids(v.complaint)
        assert self.query(org, channel="tmall") == ids(v.repair)
        assert self.query(org, product=v.product.pk) == ids(v.repair)
        assert self.query(org, shop=v.shop.pk) == ids(v.repair)
        assert self.query(org, tag="VIP") == ids(v.tagged)
        assert self.query(org, assignee="me") == ids(v.complaint)
        assert self.query(org, assignee=org.mate.pk) == ids(v.tagged)
        assert self.query(org, assignee="none") == ids(v.repair, v.solved)
        assert self.query(org, team=org.hotline.pk) == ids(v.complaint, v.repair, v.tagged, v.solved)
        assert self.query(org, team=org.online.pk) == []

    def test_filters_combine(self, org, varied):
        assert self.query(org, type="repair", channel="tmall", assignee="none") == ids(varied.repair)
        assert self.query(org, type="repair", channel="phone") == []

    def test_search_by_number_and_by_subject(self, org, varied):
        # given tickets; when the agent searches a number (any case) or words of a subject
        assert self.query(org, q=varied.tagged.number.lower()) == ids(varied.tagged)
        assert self.query(org, q="屏幕") == ids(varied.tagged)
        assert self.query(org, q="没有这种工单") == []

    def test_the_created_range_is_in_the_users_time_zone_and_includes_both_days(self, org):
        # given tickets created late on 1 March (UTC) — that is 2 March in Shanghai — and on 3 March
        a = org.agent
        late = make(a, team=org.hotline, subject="深夜")
        later = make(a, team=org.hotline, subject="后天")
        Ticket.objects.filter(pk=late.pk).update(created_at=datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
        Ticket.objects.filter(pk=later.pk).update(created_at=datetime(2026, 3, 3, 15, 59, tzinfo=UTC))
        # when filtering by local dates; then days are the user's days, both ends included
        assert self.query(org, created_from="2026-03-02", created_to="2026-03-02") == ids(late)
        assert self.query(org, created_from="2026-03-01", created_to="2026-03-01") == []
        assert self.query(org, created_from="2026-03-02", created_to="2026-03-03") == ids(late, later)
        assert self.query(org, created_to="2026-03-02") == ids(late)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"status": "bogus"}, "Status"),
            ({"created_from": "not-a-date"}, "Created from"),
            ({"assignee": "someone"}, "Assignee"),
            ({"view": "overdue"}, ""),
            ({"sort": "urgency"}, "Sort"),
            ({"created_from": "2026-03-05", "created_to": "2026-03-01"}, "Created to"),
        ],
    )
    def test_bad_filters_get_a_4xx_naming_the_field(self, org, params, field):
        # given a hand-edited address; when it is opened
        r = client_for(org.agent).get("/tickets/", params)
        # then the page says which filter is wrong, with 422, and lists nothing
        assert r.status_code == 422
        assert r.context["tickets"] == []
        assert f"<strong>{field}</strong>" in r.content.decode() if field else r.context["errors"]
        # and the list partial does the same
        assert client_for(org.agent).get("/tickets/", params, **LIST).status_code == 422

    def test_filters_live_in_the_query_string(self, org, varied):
        # given a filtered list requested by htmx; then the response pushes a clean, shareable address
        r = client_for(org.agent).get("/tickets/", {"view": "all", "type": "repair", "status": ""}, **LIST)
        assert r["HX-Push-Url"] == "/tickets/?view=all&type=repair"
        # and the tabs keep the filters (not the page)
        tabs = {t["key"]: t for t in r.context["tabs"]}
        assert tabs["mine"]["url"] == "/tickets/?view=mine&type=repair"

    def test_more_filters_open_only_when_one_is_used(self, org):
        c = client_for(org.agent)
        assert '<details class="mt-2">' in c.get("/tickets/").content.decode()
        assert '<details class="mt-2" open>' in c.get("/tickets/", {"channel": "phone"}).content.decode()
        assert '<details class="mt-2" open>' in c.get("/tickets/", {"limit": "25"}).content.decode()

    def test_the_page_size_defaults_to_50_and_defaults_stay_out_of_addresses(self, org):
        TicketFactory.create_batch(60, team=org.hotline)
        c = client_for(org.agent)
        r = c.get("/tickets/", {"view": "all"})
        assert len(shown(r)) == 50 and '<option value="50" selected>' in r.content.decode()
        r = c.get("/tickets/", {"view": "all", "sort": "newest", "limit": "50", "q": ""}, **LIST)
        assert r["HX-Push-Url"] == "/tickets/?view=all"
        assert len(shown(c.get("/tickets/", {"view": "all", "limit": "25"}))) == 25


class TestKeyset:
    @pytest.fixture
    def thirty(self, org):
        return [t.pk for t in TicketFactory.create_batch(30, team=org.hotline)]

    def test_pages_follow_each_other_in_both_directions(self, org, thirty):
        newest = sorted(thirty, reverse=True)
        f = TicketFilters()
        # given 30 tickets; when reading pages of 12, newest first
        p1 = selectors.list_inbox(actor=org.agent, view="all", filters=f, limit=12)
        p2 = selectors.list_inbox(actor=org.agent, view="all", filters=f, after=p1.next_cursor, limit=12)
        p3 = selectors.list_inbox(actor=org.agent, view="all", filters=f, after=p2.next_cursor, limit=12)
        # then they cover every ticket once, in order, and the last page has no next
        assert [t.pk for t in p1.tickets + p2.tickets + p3.tickets] == newest
        assert p1.prev_cursor is None and p3.next_cursor is None
        # and going back from page 3 gives page 2, and from page 2 page 1 (the start: no previous)
        back2 = selectors.list_inbox(actor=org.agent, view="all", filters=f, before=p3.prev_cursor, limit=12)
        assert [t.pk for t in back2.tickets] == [t.pk for t in p2.tickets]
        back1 = selectors.list_inbox(
            actor=org.agent, view="all", filters=f, before=back2.prev_cursor, limit=12
        )
        assert [t.pk for t in back1.tickets] == newest[:12] and back1.prev_cursor is None

    def test_oldest_first_pages_too(self, org, thirty):
        oldest = sorted(thirty)
        p1 = selectors.list_inbox(actor=org.agent, view="all", sort="oldest", limit=25)
        p2 = selectors.list_inbox(actor=org.agent, view="all", sort="oldest", after=p1.next_cursor, limit=25)
        assert [t.pk for t in p1.tickets] == oldest[:25] and [t.pk for t in p2.tickets] == oldest[25:]
        back = selectors.list_inbox(
            actor=org.agent, view="all", sort="oldest", before=p2.prev_cursor, limit=25
        )
        assert [t.pk for t in back.tickets] == oldest[:25]

    def test_next_and_previous_links(self, org, thirty):
        newest = sorted(thirty, reverse=True)
        c = client_for(org.agent)
        # given the first page of 25; then it links to the next page only
        r1 = c.get("/tickets/", {"view": "all", "limit": "25"})
        assert shown(r1) == newest[:25]
        assert r1.context["prev_url"] == "" and f"after={newest[24]}" in r1.context["next_url"]
        # when the agent follows "next"; then the last 5 come with a link back and none forward
        r2 = c.get(r1.context["next_url"], **LIST)
        assert shown(r2) == newest[25:]
        assert r2.context["next_url"] == "" and f"before={newest[25]}" in r2.context["prev_url"]
        assert r2["HX-Push-Url"] == r1.context["next_url"]
        # when they follow "previous"; then they are back on the first page
        assert shown(c.get(r2.context["prev_url"])) == newest[:25]

    def test_a_page_uses_no_offset_and_no_full_count(self, org, thirty):
        with CaptureQueriesContext(connection) as q:
            selectors.list_inbox(actor=org.agent, view="all", after=thirty[-1], limit=25)
        sql = " ".join(x["sql"].upper() for x in q.captured_queries)
        assert "OFFSET" not in sql and "COUNT(" not in sql and len(q.captured_queries) == 1


def bulk(user, ids_, *, htmx=True, **data):
    c = client_for(user, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    return c.post("/tickets/bulk/", {"ids": [str(i) for i in ids_], **data})


def events_of(ticket, verb):
    return list(AuditEvent.objects.filter(ticket_id=ticket.pk, verb=verb).order_by("id"))


class TestBulk:
    def test_assign_to_a_teammate(self, org, tickets):
        # given two tickets of the team; when the agent assigns both to a teammate
        r = bulk(
            org.agent, [tickets.mine.pk, tickets.unassigned.pk], action="assign", assignee=str(org.mate.pk)
        )
        # then both are assigned, each with an audit event, and the page is told which succeeded
        assert r.status_code == 200
        assert {r_.ok for r_ in r.context["results"]} == {True}
        for t in (tickets.mine, tickets.unassigned):
            t.refresh_from_db()
            assert t.assignee_id == org.mate.pk
            assert events_of(t, "ticket.updated")[-1].data["changes"]["assignee_id"]["to"] == org.mate.pk
        trigger = json.loads(r["HX-Trigger"])
        assert sorted(trigger["kf-bulk-done"]["ok"]) == ids(tickets.mine, tickets.unassigned)
        assert f"{tickets.mine.number}" in r.content.decode() and "✓" in r.content.decode()

    def test_assign_to_me_and_unassign(self, org, tickets):
        bulk(org.agent, [tickets.unassigned.pk], action="assign", assignee="me")
        tickets.unassigned.refresh_from_db()
        assert tickets.unassigned.assignee_id == org.agent.pk
        bulk(org.agent, [tickets.unassigned.pk], action="assign", assignee="none")
        tickets.unassigned.refresh_from_db()
        assert tickets.unassigned.assignee_id is None

    def test_assigning_to_someone_outside_my_teams_is_refused(self, org, tickets):
        # given a user of another team; when the agent tries to assign to them
        r = bulk(org.agent, [tickets.mine.pk], action="assign", assignee=str(org.outsider.pk))
        # then nothing changes and the error names the field
        assert r.status_code == 422 and "Assign to" in r.content.decode()
        tickets.mine.refresh_from_db()
        assert tickets.mine.assignee_id == org.agent.pk

    def test_status_reports_invalid_transitions_per_ticket(self, org, tickets):
        # given a new ticket and a solved one; when the agent closes both
        r = bulk(org.agent, [tickets.mine.pk, tickets.mine_solved.pk], action="status", status="closed")
        # then the solved one is closed and the new one is reported as failed with the reason
        results = {x.ticket_id: x for x in r.context["results"]}
        assert results[tickets.mine_solved.pk].ok
        failed = results[tickets.mine.pk]
        assert not failed.ok and failed.code == "invalid_transition"
        assert failed.message == "Cannot change status from New to Closed."
        body = r.content.decode()
        assert f"{tickets.mine.number}" in body and "✗" in body and "1 of 2 tickets changed." in body
        tickets.mine.refresh_from_db()
        tickets.mine_solved.refresh_from_db()
        assert tickets.mine.status == "new" and tickets.mine_solved.status == "closed"
        assert events_of(tickets.mine_solved, "ticket.status_changed")[-1].data == {
            "from": "solved",
            "to": "closed",
        }
        assert not events_of(tickets.mine, "ticket.status_changed")
        assert json.loads(r["HX-Trigger"])["kf-bulk-done"]["ok"] == [tickets.mine_solved.pk]

    def test_add_tag_keeps_existing_tags(self, org):
        # given a ticket tagged VIP and one without tags
        tagged = make(org.agent, team=org.hotline, tags=["VIP"])
        plain = make(org.agent, team=org.hotline)
        # when the agent adds the tag 召回 to both
        r = bulk(org.agent, [tagged.pk, plain.pk], action="tag", tag="召回")
        # then both carry it, the VIP tag stays, and each change is audited
        assert all(x.ok for x in r.context["results"])
        assert sorted(tagged.tags.values_list("name", flat=True)) == ["VIP", "召回"]
        assert list(plain.tags.values_list("name", flat=True)) == ["召回"]
        assert events_of(tagged, "ticket.updated")[-1].data["changes"]["tags"]["to"] == ["VIP", "召回"]

    def test_transfer_to_a_department_team(self, org, tickets):
        closed = make(org.agent, team=org.hotline, status="closed")
        # when the agent transfers an open ticket and a closed one to the quality team
        r = bulk(
            org.agent, [tickets.mine.pk, closed.pk], action="transfer",
            department=str(org.qc.pk), team=str(org.qc_team.pk), note="请品质部看看",
        )  # fmt: skip
        # then the open one moves (unassigned) with a transfer and events; the closed one fails
        results = {x.ticket_id: x for x in r.context["results"]}
        assert results[tickets.mine.pk].ok and not results[closed.pk].ok
        assert "cannot be transferred" in results[closed.pk].message
        tickets.mine.refresh_from_db()
        assert tickets.mine.team_id == org.qc_team.pk and tickets.mine.assignee_id is None
        assert Transfer.objects.filter(ticket=tickets.mine, to_department=org.qc).count() == 1
        assert not Transfer.objects.filter(ticket=closed).exists()
        assert events_of(tickets.mine, "ticket.transferred")

    def test_transfer_with_a_team_of_another_department_is_refused(self, org, tickets):
        r = bulk(
            org.agent,
            [tickets.mine.pk],
            action="transfer",
            department=str(org.qc.pk),
            team=str(org.online.pk),
        )
        assert r.status_code == 422 and "Team (optional)" in r.content.decode()
        assert not Transfer.objects.exists()

    def test_tickets_the_agent_cannot_see_fail_without_change(self, org, tickets):
        # given a ticket of another team; when the agent includes it in a bulk status change
        r = bulk(org.agent, [tickets.unassigned.pk, tickets.foreign.pk], action="status", status="open")
        # then it is reported as not found (no number leaked) and stays untouched
        results = {x.ticket_id: x for x in r.context["results"]}
        assert results[tickets.unassigned.pk].ok
        assert (
            not results[tickets.foreign.pk].ok
            and results[tickets.foreign.pk].number == f"#{tickets.foreign.pk}"
        )
        tickets.foreign.refresh_from_db()
        assert tickets.foreign.status == "new"

    def test_missing_selection_or_field_is_a_422_naming_it(self, org, tickets):
        r = bulk(org.agent, [], action="status", status="open")
        assert r.status_code == 422 and "Tickets" in r.content.decode()
        r = bulk(org.agent, [tickets.mine.pk], action="status")
        assert r.status_code == 422 and "New status" in r.content.decode()
        r = bulk(org.agent, ["x"], action="status", status="open")
        assert r.status_code == 422

    def test_roles_without_the_permission_get_403_and_no_bulk_form(self, org, tickets):
        qa = UserFactory(role="qa")
        r = bulk(qa, [tickets.mine.pk], action="assign", assignee="me")
        assert r.status_code == 403
        assert 'id="kf-bulk"' not in client_for(qa).get("/tickets/").content.decode()

    def test_without_javascript_the_results_come_back_as_messages(self, org, tickets):
        # given no htmx; when the agent posts the bulk form from a filtered list
        c = client_for(org.agent)
        r = c.post(
            "/tickets/bulk/",
            {"ids": [tickets.mine.pk, tickets.mine_solved.pk], "action": "status", "status": "closed",
             "next": "/tickets/?view=all"},
        )  # fmt: skip
        # then they are sent back to that list, which shows the outcome per ticket
        assert r.status_code == 302 and r["Location"] == "/tickets/?view=all"
        body = c.get(r["Location"]).content.decode()
        assert "1 of 2 tickets changed." in body
        assert f"{tickets.mine.number} ✗ Cannot change status from New to Closed." in body

    def test_the_next_address_must_be_local(self, org, tickets):
        r = bulk(
            org.agent, [tickets.mine.pk], htmx=False, action="tag", tag="x", next="https://evil.example/"
        )
        assert r["Location"] == "/tickets/"

    def test_csrf_is_required(self, org, tickets):
        # given a browser session without the CSRF token; when it posts a bulk action
        c = Client(enforce_csrf_checks=True)
        c.force_login(org.agent)
        r = c.post("/tickets/bulk/", {"ids": [tickets.mine.pk], "action": "status", "status": "open"})
        # then it is refused and nothing changes
        assert r.status_code == 403
        tickets.mine.refresh_from_db()
        assert tickets.mine.status == "new"

    def test_get_is_not_allowed(self, org):
        assert client_for(org.agent).get("/tickets/bulk/").status_code == 405


class TestPage:
    def test_the_page_renders_in_the_default_language(self, org, tickets):
        # given a browser without language preference; when the agent opens the inbox
        c = Client()
        c.force_login(org.agent)
        r = c.get("/tickets/")
        # then it renders in zh-hans with the list, the filters and the inbox script
        body = r.content.decode()
        assert r.status_code == 200 and '<html lang="zh-hans">' in body
        assert 'id="kf-inbox-list"' in body and "kefu/inbox.js" in body

    def test_english_labels_and_accessible_controls(self, org, tickets):
        body = client_for(org.agent).get("/tickets/").content.decode()
        for label in ("My tickets", "Unassigned", "My teams", "Waiting on customer", "All tickets"):
            assert label in body
        assert "data-kf-search" in body and "data-kf-row" in body and "data-kf-open" in body
        assert 'aria-label="Select all tickets on this page"' in body
        assert f'aria-label="Select ticket {tickets.mine.number}"' in body
        assert '<th scope="col">Subject</th>' in body
        assert f'href="/tickets/{tickets.mine.pk}/"' in body
        # no inline styles, scripts or handlers (the CSP would refuse them)
        assert "style=" not in body and "hx-on" not in body and "<script>" not in body

    def test_status_is_shown_localized(self, org, tickets):
        body = client_for(org.agent).get("/tickets/", {"view": "pending"}).content.decode()
        assert "Pending (waiting on customer)" in body
        zh = Client()
        zh.force_login(org.agent)
        assert (
            "Pending (waiting on customer)" not in zh.get("/tickets/", {"view": "pending"}).content.decode()
        )

    def test_user_content_is_escaped(self, org):
        make(
            org.agent,
            team=org.hotline,
            assignee=org.agent,
            subject='<script>alert("x")</script>',
            customer_name="<b>坏</b>",
        )
        body = client_for(org.agent).get("/tickets/").content.decode()
        assert "<script>alert" not in body and "&lt;script&gt;alert" in body
        assert "<b>坏</b>" not in body and "&lt;b&gt;坏&lt;/b&gt;" in body

    def test_the_list_partial_carries_the_tabs_out_of_band_and_a_poller(self, org, tickets):
        r = client_for(org.agent).get("/tickets/", {"view": "team"}, **LIST)
        body = r.content.decode()
        assert r.status_code == 200 and "<html" not in body
        assert 'hx-swap-oob="true"' in body and 'hx-trigger="every 20s, kf-refresh"' in body
        assert "HX-Request" in r["Vary"]


class TestLiveRefresh:
    def test_the_poll_answers_204_while_nothing_changed_and_the_list_once_it_did(self, org, tickets):
        c = client_for(org.agent)
        # given the team view on screen
        poll_url = c.get("/tickets/", {"view": "team"}).context["poll_url"]
        assert "fp=" in poll_url and "view=team" in poll_url
        # when it polls and nothing changed; then there is nothing to swap
        assert c.get(poll_url, **LIST).status_code == 204
        # when a teammate changes a ticket on that page; then the poll returns the new list
        services.transition_ticket(actor=org.mate, ticket_id=tickets.mates.pk, to="open")
        r = c.get(poll_url, **LIST)
        assert r.status_code == 200 and "Open" in r.content.decode()
        # and a poll does not push a new address
        assert "HX-Push-Url" not in r

    def test_the_poll_keeps_the_page(self, org):
        TicketFactory.create_batch(30, team=org.hotline)
        c = client_for(org.agent)
        first = c.get("/tickets/", {"view": "all", "limit": "25"})
        second = c.get(first.context["next_url"])
        # given page 2; when a new ticket arrives (it goes on page 1) and page 2 polls
        make(org.agent, team=org.hotline, subject="新来的")
        cache.clear()  # the cached tab counts expired
        r = c.get(second.context["poll_url"], **LIST)
        # then page 2 is left alone: only the tab counts and the poller are swapped, out of band
        assert r.status_code == 200 and r["HX-Reswap"] == "none"
        body = r.content.decode()
        assert "<table" not in body and 'id="kf-inbox-tabs"' in body and body.count('hx-swap-oob="true"') == 2
        assert {t["key"]: t.get("count") for t in r.context["tabs"]}["all"] == "31"
        # and the next poll, with the new digest, has nothing to do
        assert c.get(r.context["poll_url"], **LIST).status_code == 204

    def test_polls_reuse_the_tab_counts_for_a_minute_but_the_users_own_changes_refresh_them(
        self, org, tickets
    ):
        c = client_for(org.agent)
        poll_url = c.get("/tickets/", {"view": "team"}).context["poll_url"]
        # given counts computed by the page; when a teammate takes a ticket and the list polls
        services.update_ticket(
            actor=org.mate, ticket_id=tickets.unassigned.pk, changes={"assignee_id": org.mate.pk}
        )
        with CaptureQueriesContext(connection) as q:
            r = c.get(poll_url, **LIST)
        # then the list is re-read but the counts come from the cache (no count query)
        assert r.status_code == 200 and not any("COUNT(" in x["sql"].upper() for x in q.captured_queries)
        assert {t["key"]: t.get("count") for t in r.context["tabs"]}["unassigned"] == "1"
        # when the agent changes tickets with a bulk action; then the next poll counts afresh
        bulk(org.agent, [tickets.mine.pk], action="status", status="open")
        r = c.get(r.context["poll_url"], **LIST)
        assert {t["key"]: t.get("count") for t in r.context["tabs"]}["unassigned"] == "0"

    def test_new_tickets_show_up_on_the_first_page(self, org, tickets):
        c = client_for(org.agent)
        poll_url = c.get("/tickets/", {"view": "unassigned"}).context["poll_url"]
        fresh = make(org.agent, team=org.hotline, subject="刚来的")
        r = c.get(poll_url, **LIST)
        assert r.status_code == 200 and shown(r)[0] == fresh.pk


class TestQueryCounts:
    @pytest.mark.parametrize("n", [3, 40])
    def test_the_page_and_the_partial_use_a_fixed_number_of_queries(self, org, n):
        # given n tickets with customers, teams and assignees
        for i in range(n):
            TicketFactory(team=org.hotline, assignee=org.agent if i % 2 else org.mate)
        ProductFactory(), ShopFactory()
        c = client_for(org.agent)
        # when the whole page, the list partial and an unchanged poll are requested
        with CaptureQueriesContext(connection) as page:
            r = c.get("/tickets/", {"view": "all"})
        assert len(shown(r)) == n
        with CaptureQueriesContext(connection) as partial:
            r = c.get("/tickets/", {"view": "all", "q": "咨询"}, **LIST)
        assert len(shown(r)) == n
        with CaptureQueriesContext(connection) as poll:
            assert c.get(r.context["poll_url"], **LIST).status_code == 204
        # then the counts do not depend on n
        assert len(page.captured_queries) <= 10, [q["sql"] for q in page.captured_queries]
        assert len(partial.captured_queries) <= 4, [q["sql"] for q in partial.captured_queries]
        assert len(poll.captured_queries) <= 3  # session, user, the page (counts are cached)

    def test_bounds_are_the_same_for_small_and_large_pages(self, org):
        # given 2 tickets, then 40; when the page is requested each time
        measured = []
        for n in (2, 38):
            TicketFactory.create_batch(n, team=org.hotline, assignee=org.mate)
            with CaptureQueriesContext(connection) as q:
                client_for(org.agent).get("/tickets/", {"view": "all"})
            measured.append(len(q.captured_queries))
        # then the number of queries is the same
        assert measured[0] == measured[1]
