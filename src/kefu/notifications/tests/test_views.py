"""Console pages: the bell, the notifications page, the webhooks admin."""

import json

import pytest
from django.test import Client

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.notifications import services
from kefu.notifications.models import Notification, WebhookDelivery, WebhookEndpoint
from kefu.notifications.tests.conftest import PINGED
from kefu.tickets import services as tickets

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def ticket(agent):
    identities = {"phone": "13900139000"}
    t, _ = tickets.create_ticket(actor=agent, subject="空调异响", customer_identities=identities)
    return t


def notify(actor, ticket, *users, times=1):
    for _ in range(times):
        record_event(
            actor=actor, verb=PINGED.verb, subject=ticket, ticket_id=ticket.pk,
            data={"number": ticket.number, "notify": [u.pk for u in users]},
        )  # fmt: skip


class TestBell:
    def test_every_console_page_polls_the_bell(self, agent):
        html = client_for(agent).get("/tickets/").content.decode()
        assert 'id="kf-bell-count" hx-get="/notifications/bell/"' in html
        assert 'hx-trigger="load, every 30s' in html
        assert 'hx-get="/notifications/menu/"' in html

    def test_bell_shows_the_unread_count(self, agent, admin, ticket):
        c = client_for(admin)
        assert 'data-testid="bell-count"' not in c.get("/notifications/bell/", **HTMX).content.decode()
        notify(agent, ticket, admin, times=2)
        r = c.get("/notifications/bell/", **HTMX)
        assert r.status_code == 200 and 'data-count="2"' in r.content.decode()
        assert "no-store" in r["Cache-Control"]
        # when the count is large it is capped
        notify(agent, ticket, admin, times=100)
        assert ">99+<" in c.get("/notifications/bell/", **HTMX).content.decode()

    def test_signed_out_bell_answers_no_content(self):
        assert Client().get("/notifications/bell/", **HTMX).status_code == 204

    def test_menu_lists_the_latest_ten_unread_first(self, agent, admin, ticket):
        notify(agent, ticket, admin, times=12)
        oldest = Notification.objects.order_by("pk").first()
        services.mark_notification_read(actor=admin, notification_id=Notification.objects.latest("pk").pk)
        html = client_for(admin).get("/notifications/menu/", **HTMX).content.decode()
        assert html.count("data-kf-open") == 10
        assert f"/notifications/{oldest.pk}/open/" not in html
        assert "Mark all read" in html or "全部" in html

    def test_mark_all_read_from_the_menu_updates_it_and_the_count(self, agent, admin, ticket):
        notify(agent, ticket, admin, times=3)
        r = client_for(admin).post("/notifications/read-all/", {"from": "menu"}, **HTMX)
        assert r.status_code == 200 and 'data-testid="bell-items"' in r.content.decode()
        assert "kf-notifications-changed" in json.loads(r["HX-Trigger"])
        assert Notification.objects.filter(read_at__isnull=True).count() == 0


class TestNotificationPage:
    def test_lists_only_the_users_own_notifications(
        self, agent, admin, ticket, django_assert_max_num_queries
    ):
        other = UserFactory(role="agent")
        notify(agent, ticket, admin, times=3)
        notify(agent, ticket, other)
        c = client_for(admin)
        with django_assert_max_num_queries(8):
            r = c.get("/notifications/")
        html = r.content.decode()
        assert r.status_code == 200 and html.count('data-testid="notification-row"') == 3
        assert ticket.number in html and ticket.subject in html
        theirs = Notification.objects.get(recipient=other)
        assert f"/notifications/{theirs.pk}/" not in html

    def test_pages_and_unread_filter(self, agent, admin, ticket):
        notify(agent, ticket, admin, times=35)
        c = client_for(admin)
        first = c.get("/notifications/")
        assert first.context["page"].next_before is not None
        assert len(first.context["page"].items) == 30
        second = c.get(f"/notifications/?before={first.context['page'].next_before}")
        assert len(second.context["page"].items) == 5
        services.mark_all_notifications_read(actor=admin)
        assert c.get("/notifications/?unread=1").context["page"].items == []
        assert c.get("/notifications/?before=abc").status_code == 422

    def test_opening_marks_read_and_goes_to_the_ticket(self, agent, admin, ticket):
        notify(agent, ticket, admin, times=2)
        a, b = Notification.objects.order_by("pk")
        c = client_for(admin)
        r = c.post(f"/notifications/{a.pk}/open/")
        assert r.status_code == 302 and r["Location"] == f"/tickets/{ticket.pk}/"
        r = c.post(f"/notifications/{b.pk}/open/", **HTMX)
        assert r["HX-Redirect"] == f"/tickets/{ticket.pk}/"
        assert Notification.objects.filter(read_at__isnull=True).count() == 0

    def test_mark_one_read_with_htmx_returns_the_row(self, agent, admin, ticket):
        notify(agent, ticket, admin)
        n = Notification.objects.get()
        r = client_for(admin).post(f"/notifications/{n.pk}/read/", **HTMX)
        assert r.status_code == 200 and 'data-read="1"' in r.content.decode()
        assert "kf-notifications-changed" in json.loads(r["HX-Trigger"])

    def test_another_users_notification_is_not_found(self, agent, admin, ticket):
        notify(agent, ticket, admin)
        n = Notification.objects.get()
        c = client_for(UserFactory(role="supervisor"))
        assert c.post(f"/notifications/{n.pk}/open/").status_code == 404
        assert c.post(f"/notifications/{n.pk}/read/", **HTMX).status_code == 404
        assert Notification.objects.get().read_at is None

    def test_reading_needs_post_and_sign_in(self, agent, admin, ticket):
        notify(agent, ticket, admin)
        n = Notification.objects.get()
        assert client_for(admin).get(f"/notifications/{n.pk}/open/").status_code == 405
        r = Client().post(f"/notifications/{n.pk}/open/")
        assert r.status_code == 302 and "/login/" in r["Location"]


class TestWebhookPages:
    URLS = (
        "/notifications/webhooks/",
        "/notifications/webhooks/new/",
    )

    def test_non_admins_get_403(self, agent, admin):
        endpoint, _ = services.create_webhook_endpoint(
            actor=admin, name="ERP", url="https://erp.example.com/h", patterns=["*"]
        )
        c = client_for(UserFactory(role="supervisor"))
        for url in (*self.URLS, f"/notifications/webhooks/{endpoint.pk}/"):
            r = c.get(url)
            assert r.status_code == 403, url
        assert c.post(f"/notifications/webhooks/{endpoint.pk}/rotate/").status_code == 403
        assert c.post("/notifications/webhooks/new/", {"name": "x"}).status_code == 403
        assert WebhookEndpoint.objects.get().secret == endpoint.secret

    def test_create_shows_the_secret_once(self, admin):
        c = client_for(admin)
        assert c.get("/notifications/webhooks/new/").status_code == 200
        r = c.post(
            "/notifications/webhooks/new/",
            {"name": "订单系统", "url": "https://oms.example.com/kefu", "patterns": "ticket.*\nsla.breached",
             "is_active": "on"},
        )  # fmt: skip
        endpoint = WebhookEndpoint.objects.get()
        assert r.status_code == 200 and endpoint.secret in r.content.decode()
        assert "no-store" in r["Cache-Control"]
        assert endpoint.patterns == ["ticket.*", "sla.breached"] and endpoint.is_active
        # the endpoint's page never shows it again
        page = c.get(f"/notifications/webhooks/{endpoint.pk}/").content.decode()
        assert endpoint.secret not in page and "订单系统" in page
        assert "订单系统" in c.get("/notifications/webhooks/").content.decode()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"url": "ftp://oms.example.com/kefu"}, "url"),
            ({"patterns": "tickets"}, "patterns"),
            ({"patterns": ""}, "patterns"),
            ({"name": ""}, "name"),
        ],
    )
    def test_bad_input_is_shown_on_its_field(self, admin, data, field):
        post = {"name": "OMS", "url": "https://oms.example.com/kefu", "patterns": "ticket.*", **data}
        r = client_for(admin).post("/notifications/webhooks/new/", post)
        assert r.status_code == 422
        assert f'data-testid="error-{field}"' in r.content.decode()
        assert WebhookEndpoint.objects.count() == 0

    def test_edit_rotate_and_redeliver(self, admin, agent, ticket):
        endpoint, secret = services.create_webhook_endpoint(
            actor=admin, name="ERP", url="http://127.0.0.1:9/unused", patterns=["ticket.*"]
        )
        c = client_for(admin)
        r = c.post(
            f"/notifications/webhooks/{endpoint.pk}/",
            {"name": "ERP 2", "url": "https://erp.example.com/h", "patterns": "ticket.created"},
        )
        assert r.status_code == 302
        endpoint.refresh_from_db()
        assert (endpoint.name, endpoint.url, endpoint.patterns, endpoint.is_active) == (
            "ERP 2", "https://erp.example.com/h", ["ticket.created"], False
        )  # fmt: skip
        bad = {"name": "ERP 2", "url": "nope", "patterns": "*"}
        r = c.post(f"/notifications/webhooks/{endpoint.pk}/", bad)
        assert r.status_code == 422 and 'data-testid="error-url"' in r.content.decode()
        # rotate: the new secret is shown once
        r = c.post(f"/notifications/webhooks/{endpoint.pk}/rotate/")
        endpoint.refresh_from_db()
        assert endpoint.secret != secret and endpoint.secret in r.content.decode()
        # the delivery log lists deliveries; a failed one can be sent again
        ev = AuditEvent.objects.filter(verb="ticket.created").first()
        d = WebhookDelivery.objects.create(
            endpoint=endpoint, event=ev, status="failed", attempts=6, last_status_code=500,
            last_error="HTTP 500 Internal Server Error", created_at=clock.now(),
        )  # fmt: skip
        page = c.get(f"/notifications/webhooks/{endpoint.pk}/?status=failed").content.decode()
        assert 'data-testid="delivery-row"' in page and "HTTP 500 Internal Server Error" in page
        r = c.post(f"/notifications/webhooks/{endpoint.pk}/deliveries/{d.pk}/redeliver/")
        assert r.status_code == 302
        d.refresh_from_db()
        # the endpoint is paused, so it stays failed and the admin is told why
        assert d.status == "failed"
        services.update_webhook_endpoint(actor=admin, endpoint_id=endpoint.pk, is_active=True)
        c.post(f"/notifications/webhooks/{endpoint.pk}/deliveries/{d.pk}/redeliver/")
        d.refresh_from_db()
        assert (d.status, d.attempts) == ("pending", 0)
        # a delivery of another endpoint is not found under this one
        elsewhere = f"/notifications/webhooks/{endpoint.pk + 1}/deliveries/{d.pk}/redeliver/"
        assert c.post(elsewhere).status_code == 404
