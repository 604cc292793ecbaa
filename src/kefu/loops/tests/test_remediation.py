"""Remediation orders: who may give them, the audit trail, delivery to other systems through the
signed outgoing webhooks (a real HTTP receiver checks the signature), and reversal."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.customers.tests.factories import ShopFactory
from kefu.loops.models import RemediationOrder
from kefu.loops.services import remediation
from kefu.loops.tests.test_metrics import make_action
from kefu.notifications.models import WebhookDelivery
from kefu.notifications.services import create_webhook_endpoint, forget_active_endpoints
from kefu.notifications.services.http import verify_signature
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        rec = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = verify_signature(rec["secret"], body, self.headers.get("X-Kefu-Signature", ""))
        rec["requests"].append({"json": json.loads(body), "signature_ok": ok, "headers": dict(self.headers)})
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def receiver():
    """An ERP's webhook receiver: a real HTTP server that checks X-Kefu-Signature."""
    forget_active_endpoints()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    rec = {"requests": [], "secret": "", "url": f"http://127.0.0.1:{server.server_address[1]}/erp/hooks"}
    server.receiver = rec  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
    forget_active_endpoints()


@pytest.fixture
def supervisor():
    return UserFactory(role="supervisor", display_name="王组长", teams=[TeamFactory()])


@pytest.fixture
def admin():
    return UserFactory(role="admin")


def subscribe(admin, receiver):
    endpoint, secret = create_webhook_endpoint(
        actor=admin, name="ERP", url=receiver["url"], patterns=["loops.remediation_*"]
    )
    receiver["secret"] = secret
    return endpoint


class TestOrder:
    def test_supervisor_orders_a_delisting_and_the_erp_receives_it_signed(
        self, supervisor, admin, receiver, django_capture_on_commit_callbacks, client, settings
    ):
        settings.LANGUAGE_CODE = "en"
        # given an ERP subscribed to remediation events, an action and a ticket
        endpoint = subscribe(admin, receiver)
        shop = ShopFactory(code="jd-oxygen", platform="jd")
        action = make_action(metric="negative_review_rate")
        ticket = TicketFactory(team=supervisor.teams.first())
        # when the supervisor orders SKU KY-5W delisted in the JD shop
        with django_capture_on_commit_callbacks(execute=True):
            order = remediation.order_remediation(
                actor=supervisor, kind="delist_sku", shop_id=shop.pk, target=" KY-5W ",
                reason="批量噪音投诉", action_id=action.pk, ticket_id=ticket.pk,
            )  # fmt: skip
        # then the order is in force and audited with what the other system needs
        assert (order.status, order.target, order.ordered_by) == ("active", "KY-5W", supervisor)
        ev = AuditEvent.objects.get(verb="loops.remediation_ordered")
        expected = {
            "order_id": order.pk, "kind": "delist_sku", "shop": "jd-oxygen", "target": "KY-5W",
            "reason": "批量噪音投诉", "action": action.number, "ticket": ticket.number,
        }  # fmt: skip
        assert ev.data == expected and ev.actor == supervisor and ev.ticket_id == ticket.pk
        # and the ERP got it once, as JSON with a valid HMAC signature
        assert len(receiver["requests"]) == 1
        req = receiver["requests"][0]
        assert req["signature_ok"] is True
        assert req["json"]["verb"] == "loops.remediation_ordered" and req["json"]["data"] == expected
        # and the delivery log shows it delivered, as the order's delivery state
        delivery = WebhookDelivery.objects.get(event=ev)
        assert (delivery.endpoint, delivery.status, delivery.last_status_code) == (endpoint, "delivered", 200)
        states = remediation.delivery_states([order.pk])[order.pk]
        assert [(d.verb, d.status) for d in states] == [("loops.remediation_ordered", "delivered")]
        client.force_login(supervisor)
        page = client.get("/loops/remediation/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "delivered" in page and "(HTTP 200)" in page

    def test_agents_may_not_order(self):
        with pytest.raises(PermissionDenied):
            remediation.order_remediation(
                actor=UserFactory(role="agent"), kind="close_warehouse", shop_id=None, target="WH-BJ-03",
                reason="冷链故障",
            )  # fmt: skip
        assert RemediationOrder.objects.count() == 0 and not AuditEvent.objects.exists()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"kind": "burn_it"}, "kind"),
            ({"target": "  "}, "target"),
            ({"target": "x" * 201}, "target"),
            ({"reason": ""}, "reason"),
            ({"kind": "delist_sku", "shop_id": None}, "shop_id"),
            ({"shop_id": 999999}, "shop_id"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(self, supervisor, fields, field):
        args = {"kind": "close_warehouse", "shop_id": None, "target": "WH-BJ-03", "reason": "冷链故障"}
        with pytest.raises(ValidationFailed) as exc:
            remediation.order_remediation(actor=supervisor, **{**args, **fields})
        assert exc.value.field == field and RemediationOrder.objects.count() == 0

    def test_unknown_action_is_not_found(self, supervisor):
        with pytest.raises(NotFound):
            remediation.order_remediation(
                actor=supervisor, kind="close_warehouse", shop_id=None, target="WH-1", reason="r",
                action_id=424242,
            )  # fmt: skip


class TestReverse:
    def test_reversal_is_audited_and_delivered(
        self, supervisor, admin, receiver, django_capture_on_commit_callbacks
    ):
        # given an order in force and a subscribed ERP
        subscribe(admin, receiver)
        order = remediation.order_remediation(
            actor=supervisor, kind="suspend_promotion", shop_id=ShopFactory().pk, target="PROMO-618",
            reason="价格错误",
        )  # fmt: skip
        # when an executive reverses it
        boss = UserFactory(role="executive")
        with django_capture_on_commit_callbacks(execute=True):
            remediation.reverse_remediation(actor=boss, order_id=order.pk, reason="价格已修正")
        # then it is reversed, audited and the ERP is told, signed
        order.refresh_from_db()
        assert (order.status, order.reversed_by, order.reverse_reason) == ("reversed", boss, "价格已修正")
        ev = AuditEvent.objects.get(verb="loops.remediation_reversed")
        assert ev.data["order_id"] == order.pk and ev.data["reason"] == "价格已修正"
        reversed_requests = [
            r for r in receiver["requests"] if r["json"]["verb"] == "loops.remediation_reversed"
        ]
        assert len(reversed_requests) == 1 and reversed_requests[0]["signature_ok"]
        # and reversing twice is a conflict
        with pytest.raises(Conflict):
            remediation.reverse_remediation(actor=boss, order_id=order.pk, reason="again")

    def test_agents_may_not_reverse(self, supervisor):
        order = remediation.order_remediation(
            actor=supervisor, kind="close_warehouse", shop_id=None, target="WH-1", reason="r"
        )
        with pytest.raises(PermissionDenied):
            remediation.reverse_remediation(actor=UserFactory(role="agent"), order_id=order.pk, reason="x")
        assert RemediationOrder.objects.get().status == "active"


class TestPages:
    def test_supervisor_orders_from_an_action_sees_the_list_and_reverses(self, client, supervisor, settings):
        # given a signed-in supervisor and an action
        settings.LANGUAGE_CODE = "en"
        client.force_login(supervisor)
        shop = ShopFactory(name="京东自营店")
        action = make_action(metric="negative_review_rate", metric_shop=shop)
        # when the form is opened from the action
        r = client.get(f"/loops/remediation/new/?action={action.pk}", HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 200 and action.number in r.content.decode()
        assert f'<option value="{shop.pk}" selected>' in r.content.decode()  # the metric's shop
        # and sent without a target, the field is named and nothing is written
        data = {
            "kind": "delist_sku",
            "shop_id": shop.pk,
            "target": "",
            "reason": "噪音",
            "action_id": action.pk,
        }
        r = client.post("/loops/remediation/new/", data, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 422 and 'data-testid="error-target"' in r.content.decode()
        assert RemediationOrder.objects.count() == 0
        # when it is sent complete
        r = client.post("/loops/remediation/new/", {**data, "target": "KY-5W"}, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 302 and r.url == "/loops/remediation/"
        order = RemediationOrder.objects.get()
        assert (order.action, order.shop, order.ordered_by) == (action, shop, supervisor)
        # then the list shows it in force, with no webhook endpoint to deliver to
        page = client.get("/loops/remediation/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'data-order="{order.pk}" data-status="active"' in page and "KY-5W" in page
        assert "no webhook endpoint" in page
        # when it is reversed from the list
        r = client.post(f"/loops/remediation/{order.pk}/reverse/", {"reason": "已下架完成"})
        assert r.status_code == 302
        order.refresh_from_db()
        assert order.status == "reversed" and order.reverse_reason == "已下架完成"
        page = client.get("/loops/remediation/?status=reversed").content.decode()
        assert f'data-order="{order.pk}" data-status="reversed"' in page

    def test_agents_see_the_list_but_may_not_order_or_reverse(self, client, supervisor):
        order = remediation.order_remediation(
            actor=supervisor, kind="close_warehouse", shop_id=None, target="WH-1", reason="r"
        )
        client.force_login(UserFactory(role="agent"))
        page = client.get("/loops/remediation/")
        assert page.status_code == 200 and 'data-testid="remediation-new"' not in page.content.decode()
        assert client.get("/loops/remediation/new/").status_code == 403
        assert client.post("/loops/remediation/new/", {"kind": "close_warehouse"}).status_code == 403
        assert client.post(f"/loops/remediation/{order.pk}/reverse/", {"reason": "x"}).status_code == 403
        assert RemediationOrder.objects.get().status == "active"

    def test_reversing_an_unknown_order_is_404(self, client, supervisor):
        client.force_login(supervisor)
        assert client.post("/loops/remediation/4242/reverse/", {"reason": "x"}).status_code == 404

    def test_action_partial_lists_its_orders(self, rf, supervisor):
        from django.template.loader import render_to_string

        action = make_action()
        remediation.order_remediation(
            actor=supervisor, kind="close_warehouse", shop_id=None, target="WH-BJ-03", reason="r",
            action_id=action.pk,
        )  # fmt: skip
        request = rf.get("/")
        request.user = supervisor
        html = render_to_string("loops/partials/action_remediation.html", {"action": action}, request=request)
        assert 'data-testid="action-remediation-order" data-status="active"' in html and "WH-BJ-03" in html
        assert f"/loops/remediation/new/?action={action.pk}" in html
