"""Webhooks: the audit event table as outbox, signed deliveries to a real HTTP server, retries."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction

from kefu.audit.models import AuditEvent
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.notifications import services
from kefu.notifications.models import Notification, WebhookDelivery, WebhookEndpoint
from kefu.notifications.services import dispatch
from kefu.notifications.tests.conftest import OTHER, PINGED, free_port

pytestmark = pytest.mark.django_db


def endpoint_for(admin, receiver, patterns=("test.*",), url=None):
    endpoint, secret = services.create_webhook_endpoint(
        actor=admin, name="ERP", url=url or receiver.url, patterns=list(patterns)
    )
    receiver.secret = secret
    return endpoint


def event(actor, verb=PINGED.verb, **data):
    data.setdefault("number", "T2026010100001")
    return record_event(actor=actor, verb=verb, subject=actor, data=data)


class TestDelivery:
    def test_event_is_posted_after_commit_with_a_valid_signature(
        self, admin, receiver, django_capture_on_commit_callbacks
    ):
        # given an endpoint for test.* events on a real HTTP server that checks signatures
        endpoint = endpoint_for(admin, receiver)
        # when a matching event and a non-matching one commit
        with django_capture_on_commit_callbacks(execute=True):
            ev = event(admin, note="冰箱不制冷")
            record_event(actor=admin, verb="ticket.created", subject=admin, data={"number": "T1"})
        # then exactly the matching event was POSTed, signed, as JSON
        assert len(receiver.requests) == 1
        req = receiver.requests[0]
        assert req["signature_ok"] and req["path"] == "/hooks/kefu"
        assert req["headers"]["content-type"] == "application/json"
        assert req["headers"]["x-kefu-event"] == PINGED.verb
        delivery = WebhookDelivery.objects.get()
        assert req["headers"]["x-kefu-delivery"] == str(delivery.pk)
        assert req["json"] == {
            "id": ev.pk,
            "verb": PINGED.verb,
            "created_at": ev.created_at.isoformat(),
            "ticket_id": None,
            "customer_id": None,
            "actor_id": admin.pk,
            "data": {"number": "T2026010100001", "note": "冰箱不制冷"},
        }
        # and the delivery is logged as delivered
        assert (delivery.endpoint, delivery.event, delivery.status, delivery.attempts) == (
            endpoint, ev, "delivered", 1
        )  # fmt: skip
        assert delivery.last_status_code == 200 and delivery.response_snippet == "status 200 收到"
        assert delivery.delivered_at is not None and delivery.next_attempt_at is None

    def test_signature_made_with_another_secret_is_refused_by_the_receiver(self, admin, receiver):
        endpoint_for(admin, receiver)
        receiver.secret = "whsec_not-the-right-one"
        event(admin)
        services.dispatch_webhooks()
        d = WebhookDelivery.objects.get()
        assert receiver.requests[0]["signature_ok"] is False
        assert (d.status, d.last_status_code) == ("pending", 401)

    def test_dispatching_twice_sends_each_event_once(self, admin, receiver):
        endpoint_for(admin, receiver, patterns=["test.*"])
        first, second = event(admin), event(admin, verb=OTHER.verb)
        for rescan in (False, True, True):
            services.dispatch_webhooks(rescan_window=rescan)
        assert sorted(WebhookDelivery.objects.values_list("event_id", flat=True)) == [first.pk, second.pk]
        assert sorted(r["json"]["id"] for r in receiver.requests) == [first.pk, second.pk]

    def test_events_before_the_endpoint_existed_are_not_sent(self, admin, receiver):
        event(admin)
        endpoint = endpoint_for(admin, receiver, patterns=["*"])
        services.dispatch_webhooks(rescan_window=True)
        # only the endpoint's own creation (a first "ping") is sent
        assert [r["json"]["verb"] for r in receiver.requests] == ["webhook.created"]
        assert receiver.requests[0]["json"]["data"]["name"] == endpoint.name

    def test_rolled_back_event_is_never_delivered(self, admin, receiver, django_capture_on_commit_callbacks):
        endpoint_for(admin, receiver)
        capture = django_capture_on_commit_callbacks(execute=True)
        with capture, pytest.raises(RuntimeError), transaction.atomic():
            event(admin, notify=[admin.pk])
            raise RuntimeError("the change fails")
        services.dispatch_webhooks(rescan_window=True)
        assert WebhookDelivery.objects.count() == 0 and receiver.requests == []
        assert Notification.objects.count() == 0

    def test_event_committed_late_is_found_in_the_safety_window(self, admin, receiver):
        # given an event whose transaction committed after the dispatcher had moved past its id
        endpoint = endpoint_for(admin, receiver)
        late = event(admin)
        newer = record_event(actor=admin, verb="ticket.created", subject=admin, data={"number": "T2"})
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(cursor_event_id=newer.pk)
        # when the after-commit dispatch runs, it does not see it
        services.dispatch_webhooks()
        assert WebhookDelivery.objects.count() == 0
        # then the periodic run re-scans the last five minutes and delivers it
        services.dispatch_webhooks(rescan_window=True)
        assert list(WebhookDelivery.objects.values_list("event_id", "status")) == [(late.pk, "delivered")]
        # and an event older than the window is not re-scanned
        AuditEvent.objects.filter(pk=late.pk).update(created_at=clock.now() - timedelta(minutes=6))
        WebhookDelivery.objects.all().delete()
        services.dispatch_webhooks(rescan_window=True)
        assert WebhookDelivery.objects.count() == 0

    def test_the_after_commit_dispatch_names_its_event_so_concurrent_commits_are_not_missed(
        self, admin, receiver, django_capture_on_commit_callbacks
    ):
        endpoint = endpoint_for(admin, receiver)
        with django_capture_on_commit_callbacks() as callbacks:
            ev = event(admin)
        # another worker scanned past this event before its transaction committed
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(cursor_event_id=ev.pk + 10)
        for callback in callbacks:
            callback()
        assert WebhookDelivery.objects.get().event_id == ev.pk and len(receiver.requests) == 1

    def test_paused_endpoint_gets_nothing_and_misses_what_happened_meanwhile(self, admin, receiver):
        endpoint = endpoint_for(admin, receiver)
        services.update_webhook_endpoint(actor=admin, endpoint_id=endpoint.pk, is_active=False)
        event(admin)
        services.dispatch_webhooks(rescan_window=True)
        assert WebhookDelivery.objects.count() == 0
        with time_machine.travel(clock.now() + timedelta(minutes=10)):
            services.update_webhook_endpoint(actor=admin, endpoint_id=endpoint.pk, is_active=True)
            after = event(admin)
            services.dispatch_webhooks(rescan_window=True)
        assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [after.pk]


class TestRetries:
    def test_server_errors_are_retried_with_backoff_then_failed(self, admin, receiver):
        # given a receiver that answers 500
        receiver.statuses = [500]
        endpoint_for(admin, receiver)
        start = (clock.now() + timedelta(seconds=1)).replace(microsecond=0)
        with time_machine.travel(start, tick=False):
            event(admin)
            services.dispatch_webhooks()
        d = WebhookDelivery.objects.get()
        # then the first failure is logged and retried a minute later
        assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, 500)
        assert d.next_attempt_at == start + timedelta(minutes=1)
        assert d.response_snippet == "status 500 收到" and "500" in d.last_error
        # when the dispatcher runs before that, nothing is sent
        with time_machine.travel(start + timedelta(seconds=59), tick=False):
            services.dispatch_webhooks()
        assert WebhookDelivery.objects.get().attempts == 1 and len(receiver.requests) == 1
        # then each later attempt waits longer: 5 min, 30 min, 2 h, 12 h; the sixth failure gives up
        now = start
        for attempt, wait in enumerate(services.BACKOFF, start=1):
            now = now + wait
            with time_machine.travel(now, tick=False):
                services.dispatch_webhooks()
            d.refresh_from_db()
            assert d.attempts == attempt + 1
            if attempt < len(services.BACKOFF):
                assert d.status == "pending" and d.next_attempt_at == now + services.BACKOFF[attempt]
        assert (d.status, d.attempts, d.next_attempt_at) == ("failed", services.MAX_ATTEMPTS, None)
        assert len(receiver.requests) == services.MAX_ATTEMPTS
        # and a failed delivery is not tried again by itself
        with time_machine.travel(now + timedelta(days=2), tick=False):
            services.dispatch_webhooks(rescan_window=True)
        assert len(receiver.requests) == services.MAX_ATTEMPTS

    def test_connection_refused_is_an_error_without_status(self, admin, receiver):
        endpoint_for(admin, receiver, url=f"http://127.0.0.1:{free_port()}/gone")
        event(admin)
        services.dispatch_webhooks()
        d = WebhookDelivery.objects.get()
        assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, None)
        assert "refused" in d.last_error.lower() and d.next_attempt_at > clock.now()

    def test_redirects_are_not_followed(self, admin, receiver):
        receiver.statuses = [302]
        endpoint_for(admin, receiver)
        event(admin)
        services.dispatch_webhooks()
        d = WebhookDelivery.objects.get()
        assert (d.status, d.last_status_code) == ("pending", 302)

    def test_redeliver_sends_a_failed_delivery_again(
        self, admin, receiver, django_capture_on_commit_callbacks
    ):
        # given a delivery that failed
        endpoint_for(admin, receiver)
        event(admin)
        WebhookDelivery.objects.create(
            endpoint=WebhookEndpoint.objects.get(), event=event(admin, verb=OTHER.verb), status="failed",
            attempts=6, created_at=clock.now(), last_error="HTTP 500",
        )  # fmt: skip
        failed = WebhookDelivery.objects.get(status="failed")
        # when an admin asks to send it again (and the change commits)
        with django_capture_on_commit_callbacks(execute=True):
            services.redeliver_webhook_delivery(actor=admin, delivery_id=failed.pk)
        # then it is delivered, with a fresh count of attempts, and the request is audited
        failed.refresh_from_db()
        assert (failed.status, failed.attempts, failed.last_status_code) == ("delivered", 1, 200)
        audit = AuditEvent.objects.filter(verb="webhook.redelivery_requested", subject_id=failed.endpoint_id)
        assert audit.exists()
        # and a pending delivery cannot be queued twice
        failed.status = "pending"
        failed.save()
        with pytest.raises(Conflict):
            services.redeliver_webhook_delivery(actor=admin, delivery_id=failed.pk)

    def test_a_crash_after_claiming_only_delays_the_delivery(self, admin, receiver):
        endpoint_for(admin, receiver)
        event(admin)
        services.enqueue_deliveries()
        # a worker claims the delivery and dies before sending
        assert len(services.claim_due_deliveries()) == 1
        services.dispatch_webhooks()
        assert receiver.requests == []
        # when the lease has run out, the periodic run sends it
        with time_machine.travel(clock.now() + dispatch.LEASE + timedelta(seconds=1)):
            services.dispatch_webhooks(rescan_window=True)
        assert WebhookDelivery.objects.get().status == "delivered" and len(receiver.requests) == 1

    def test_a_slow_endpoint_never_outlives_the_claim(self, admin, receiver, monkeypatch):
        # given three due deliveries and an endpoint so slow that one request uses up the lease
        endpoint_for(admin, receiver)
        for _ in range(3):
            event(admin)
        services.enqueue_deliveries()
        fake = {"now": 1000.0}
        monkeypatch.setattr(dispatch.time, "monotonic", lambda: fake["now"])
        real_post = dispatch.http.post_json

        def slow_post(*args, **kwargs):
            fake["now"] += dispatch.LEASE.total_seconds()
            return real_post(*args, **kwargs)

        monkeypatch.setattr(dispatch.http, "post_json", slow_post)
        # when the worker sends them
        sent, delivered = services.send_due_deliveries()
        # then it stops after the first and gives the others back, due now and untried
        assert (sent, delivered) == (1, 1)
        rest = WebhookDelivery.objects.filter(status="pending")
        assert rest.count() == 2 and all(d.attempts == 0 and d.next_attempt_at <= clock.now() for d in rest)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_delivery(admin, receiver):
    # given 30 due deliveries (committed: each was sent at once, so make them due again)
    endpoint = endpoint_for(admin, receiver)
    for _ in range(30):
        event(admin)
    services.enqueue_deliveries()
    WebhookDelivery.objects.update(status="pending", next_attempt_at=clock.now())
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").count() == 30
    # when two workers claim at the same moment
    barrier = threading.Barrier(2)
    claimed: list[list[int]] = []
    errors: list[Exception] = []

    def worker():
        try:
            barrier.wait()
            for _ in range(3):
                claimed.append(services.claim_due_deliveries(limit=10))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every delivery was claimed exactly once
    assert errors == []
    ids = [pk for batch in claimed for pk in batch]
    assert sorted(ids) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))


class TestEndpointServices:
    def test_only_admins_manage_endpoints(self, agent, admin, receiver):
        with pytest.raises(PermissionDenied):
            services.create_webhook_endpoint(actor=agent, name="x", url=receiver.url, patterns=["*"])
        endpoint = endpoint_for(admin, receiver)
        with pytest.raises(PermissionDenied):
            services.rotate_webhook_secret(actor=agent, endpoint_id=endpoint.pk)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"url": "ftp://files.example.com/x"}, "url"),
            ({"url": "javascript:alert(1)"}, "url"),
            ({"url": "example.com/hook"}, "url"),
            ({"patterns": []}, "patterns"),
            ({"patterns": "  \n "}, "patterns"),
            ({"patterns": ["ticket"]}, "patterns"),
            ({"patterns": ["ticket..created"]}, "patterns"),
            ({"patterns": ["Ticket Created"]}, "patterns"),
            ({"name": " "}, "name"),
        ],
    )
    def test_bad_input_names_the_field(self, admin, kwargs, field):
        args = {"name": "ERP", "url": "https://erp.example.com/hooks", "patterns": ["ticket.*"], **kwargs}
        with pytest.raises(ValidationFailed) as exc:
            services.create_webhook_endpoint(actor=admin, **args)
        assert exc.value.field == field
        assert WebhookEndpoint.objects.count() == 0

    def test_patterns_are_normalized_and_audit_keeps_no_secret_or_path(self, admin):
        endpoint, secret = services.create_webhook_endpoint(
            actor=admin, name="ERP", url="https://u:pw@erp.example.com/hooks?token=abc",
            patterns="ticket.*, SLA.breached\n*.created\nticket.*",
        )  # fmt: skip
        assert endpoint.patterns == ["ticket.*", "sla.breached", "*.created"]
        assert secret.startswith("whsec_") and len(secret) > 40
        audit = AuditEvent.objects.get(verb="webhook.created")
        assert audit.data["host"] == "erp.example.com"
        assert secret not in json.dumps(audit.data) and "token" not in json.dumps(audit.data)

    def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(self, admin, receiver):
        endpoint = endpoint_for(admin, receiver)
        old = receiver.secret
        _, new = services.rotate_webhook_secret(actor=admin, endpoint_id=endpoint.pk)
        assert new != old and WebhookEndpoint.objects.get().secret == new
        receiver.secret = new
        event(admin)
        services.dispatch_webhooks()
        assert receiver.requests[0]["signature_ok"]
        assert AuditEvent.objects.filter(verb="webhook.secret_rotated").count() == 1

    def test_prune_keeps_recent_and_pending_deliveries(self, admin, receiver):
        endpoint = endpoint_for(admin, receiver)
        old = clock.now() - timedelta(days=31)
        for status in ("delivered", "failed", "pending"):
            WebhookDelivery.objects.create(
                endpoint=endpoint, event=event(admin), status=status, created_at=old
            )
        assert services.prune_webhook_deliveries() == 2
        assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending"]
