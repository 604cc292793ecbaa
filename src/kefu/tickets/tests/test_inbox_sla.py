"""The inbox's SLA views ("Due soon", "SLA breached"), the due badge of each row and the "due" sort
with keyset pages across tickets with and without a due time. SLA clocks are real: a complaint
policy on an always-open calendar (first reply within 2 hours) started by create_ticket."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.sla.services import scan_due_timers
from kefu.sla.tests.factories import always_open_calendar, complaint_policy
from kefu.tickets import selectors, services
from kefu.tickets.selectors.inbox import format_duration

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=CST)  # a Tuesday, 10:00 in Shanghai
LIST = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "kf-inbox-list"}


@pytest.fixture(autouse=True)
def _fresh_counts_cache():
    cache.clear()


@pytest.fixture
def org():
    team, other = TeamFactory(name="投诉组"), TeamFactory(name="在线组")
    agent = UserFactory(username="xiaoyan", role="agent", teams=[team])
    outsider = UserFactory(username="haoz", role="agent", teams=[other])
    complaint_policy(always_open_calendar())  # complaints: first reply within 2 h, around the clock
    return SimpleNamespace(team=team, other=other, agent=agent, outsider=outsider)


def make(org, at, subject, *, type="complaint", team=None, status=None):
    with time_machine.travel(at, tick=False):
        ticket, _ = services.create_ticket(
            actor=org.agent,
            subject=subject,
            type=type,
            customer_identities={"phone": "13800138000"},
            team_id=(team or org.team).pk,
        )
        if status:
            services.transition_ticket(actor=org.agent, ticket_id=ticket.pk, to=status)
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def scenery(org):
    """At NOW: one complaint due in an hour, one an hour overdue (the scan marked it), one solved
    (its clocks met), one inquiry without SLA, and an overdue one of another team."""
    s = SimpleNamespace(
        soon=make(org, NOW - timedelta(hours=1), "一小时后到期"),
        breached=make(org, NOW - timedelta(hours=3), "已超时"),
        solved=make(org, NOW - timedelta(hours=3), "已解决", status="solved"),
        inquiry=make(org, NOW - timedelta(hours=5), "普通咨询", type="inquiry"),
        foreign=make(org, NOW - timedelta(hours=3), "别组超时", team=org.other),
    )
    with time_machine.travel(NOW, tick=False):
        scan_due_timers()
    for t in vars(s).values():
        t.refresh_from_db()
    return s


def client_for(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def shown(response):
    return [t.pk for t in response.context["tickets"]]


class TestSlaViews:
    def test_due_soon_and_breached_list_the_right_tickets_most_urgent_first(self, org, scenery):
        assert scenery.breached.sla_breached and scenery.solved.sla_due_at is None
        with time_machine.travel(NOW, tick=False):
            c = client_for(org.agent)
            due, breached = c.get("/tickets/", {"view": "due"}), c.get("/tickets/", {"view": "breached"})
            counts = selectors.count_inbox_views(actor=org.agent)
        # then "Due soon" holds the overdue one and the one due in an hour, earliest due first
        assert shown(due) == [scenery.breached.pk, scenery.soon.pk]
        assert due.context["form"].cleaned_data["sort"] == "due"
        # and "SLA breached" only the overdue one; the solved ticket and the other team's are in neither
        assert shown(breached) == [scenery.breached.pk]
        assert (counts["due"], counts["breached"]) == (2, 1)
        assert scenery.foreign.number not in due.content.decode() + breached.content.decode()

    def test_each_row_shows_its_due_time_in_clock_time(self, org, scenery):
        with time_machine.travel(NOW, tick=False):
            r = client_for(org.agent).get("/tickets/", {"view": "all"})
        badges = {t.pk: t.sla_badge for t in r.context["tickets"]}
        assert (badges[scenery.soon.pk].state, badges[scenery.soon.pk].text) == ("soon", "due in 1 h")
        assert badges[scenery.soon.pk].at == "11:00"  # the agent's zone (Asia/Shanghai)
        assert (badges[scenery.breached.pk].state, badges[scenery.breached.pk].text) == (
            "overdue",
            "overdue by 1 h",
        )
        assert badges[scenery.solved.pk] is None and badges[scenery.inquiry.pk] is None
        html = r.content.decode()
        assert 'data-kf-due="soon"' in html and 'data-kf-due="overdue"' in html and "SLA due" in html

    def test_durations_read_humanly(self):
        assert [format_duration(s) for s in (30, 59 * 60, 3600, 12000, -12000)] == [
            "< 1 min", "59 min", "1 h", "3 h 20 min", "3 h 20 min",
        ]  # fmt: skip
        assert format_duration(26 * 3600 + 60, days=True) == "1 d 2 h"
        assert format_duration(48 * 3600, days=True) == "2 d" and format_duration(48 * 3600) == "48 h"

    def test_the_sla_tabs_keep_their_sort_unless_another_is_chosen(self, org, scenery):
        with time_machine.travel(NOW, tick=False):
            c = client_for(org.agent)
            r = c.get("/tickets/", {"view": "due", "sort": "oldest", "limit": "25"})
            newest = c.get("/tickets/", {"view": "due", "sort": "newest"})
        # oldest (or newest) first on the due view stays in every address (not that view's default)
        assert shown(r) == [scenery.soon.pk, scenery.breached.pk]
        assert "sort=oldest" in r.context["poll_url"] and "sort=oldest" in r.context["page_url"]
        assert "sort=newest" in newest.context["page_url"]
        tabs = {t["key"]: t["url"] for t in r.context["tabs"]}
        assert tabs["breached"] == "/tickets/?view=breached&sort=oldest&limit=25"
        assert tabs["all"] == "/tickets/?view=all&limit=25"  # leaving the SLA views resets the sort


@pytest.fixture
def spread(org):
    """Twelve tickets: eight complaints due at four instants (two each: ties are ordered by id) and
    four inquiries without a due time, interleaved by creation."""
    tickets = []
    for i in range(12):
        if i % 3 == 2:
            tickets.append(make(org, NOW - timedelta(minutes=i), f"咨询{i}", type="inquiry"))
        else:
            tickets.append(make(org, NOW - timedelta(minutes=10 * (i % 4)), f"投诉{i}"))
    dated = sorted((t for t in tickets if t.sla_due_at), key=lambda t: (t.sla_due_at, t.pk))
    undated = sorted(t.pk for t in tickets if t.sla_due_at is None)
    assert len(dated) == 8 and len({t.sla_due_at for t in dated}) == 4
    return [t.pk for t in dated] + undated


class TestDueSort:
    @pytest.mark.parametrize("limit", [3, 5, 8])
    def test_pages_follow_each_other_in_both_directions(self, org, spread, limit):
        def read(**cursor):
            return selectors.list_inbox(actor=org.agent, view="all", sort="due", limit=limit, **cursor)

        with time_machine.travel(NOW, tick=False):
            pages = [read()]
            while pages[-1].next_cursor:
                pages.append(read(after=pages[-1].next_cursor))
            # then the pages cover every ticket once: dated by due time (ties by id), then undated by id
            assert [t.pk for p in pages for t in p.tickets] == spread
            # and going back from each page gives the one before it
            for previous, page in zip(pages, pages[1:], strict=False):
                back = read(before=page.prev_cursor)
                assert [t.pk for t in back.tickets] == [t.pk for t in previous.tickets]

    def test_next_links_page_by_due_time(self, org, spread):
        with time_machine.travel(NOW, tick=False):
            c = client_for(org.agent)
            r1 = c.get("/tickets/", {"view": "all", "sort": "due", "limit": "25"})
            assert shown(r1) == spread
            r = c.get("/tickets/", {"view": "all", "sort": "due"})
            assert "sort=due" in r.context["page_url"]

    def test_the_api_pages_by_due_time_too(self, org, spread, api):
        with time_machine.travel(NOW, tick=False):
            c, seen, cursor = api(org.agent), [], None
            while True:
                params = {"sort": "due", "limit": 5, **({"cursor": cursor} if cursor else {})}
                body = c.get("tickets", **params).json()
                seen += [t["id"] for t in body["items"]]
                cursor = body["next_cursor"]
                if not cursor:
                    break
        assert seen == spread

    def test_a_due_page_reads_dated_then_undated_tickets_without_offset(self, org, spread):
        def queries(**kwargs):
            with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as q:
                selectors.list_inbox(actor=org.agent, view="all", sort="due", limit=3, **kwargs)
            sql = " ".join(x["sql"].upper() for x in q.captured_queries)
            assert "OFFSET" not in sql and "COUNT(" not in sql
            return [x["sql"].upper() for x in q.captured_queries]

        # a page among the dated tickets reads them alone, on the partial index's condition
        within = queries(after=spread[0])
        assert len(within) == 1 and '"SLA_DUE_AT" IS NOT NULL' in within[0]
        # a page across the boundary reads the dated, then the undated ones
        across = queries(after=spread[5])
        assert len(across) == 2 and '"SLA_DUE_AT" IS NULL' in across[1]


class TestQueryCounts:
    @pytest.mark.parametrize("n", [2, 12])
    def test_the_sla_views_stay_within_the_inbox_bounds(self, org, n):
        for i in range(n):
            make(org, NOW - timedelta(minutes=30 + i), f"投诉{i}")
        with time_machine.travel(NOW, tick=False):
            c = client_for(org.agent)
            with CaptureQueriesContext(connection) as page:
                r = c.get("/tickets/", {"view": "due"})
            assert len(shown(r)) == n
            with CaptureQueriesContext(connection) as partial:
                r = c.get("/tickets/", {"view": "breached", "sort": "due", "after": shown(r)[0]}, **LIST)
            with CaptureQueriesContext(connection) as poll:
                assert c.get(r.context["poll_url"], **LIST).status_code == 204
        assert len(page.captured_queries) <= 10, [q["sql"] for q in page.captured_queries]
        assert len(partial.captured_queries) <= 4, [q["sql"] for q in partial.captured_queries]
        assert len(poll.captured_queries) <= 3
