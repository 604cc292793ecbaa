"""Real servers for the notification tests: an SMTP server (aiosmtpd) and an HTTP receiver that
checks webhook signatures, both on 127.0.0.1 with a free port."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.core import events
from kefu.notifications.services import forget_active_endpoints
from kefu.notifications.services.http import verify_signature

# an event type other apps would register; its label is what notifications show
PINGED = events.register("test.pinged", "工单 {number} 需要你处理")
OTHER = events.register("test.other_thing", "Something else happened")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache():
    forget_active_endpoints()
    yield
    forget_active_endpoints()


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def agent(team):
    return UserFactory(role="agent", email="li@example.com", display_name="李雷", teams=[team])


@pytest.fixture
def admin():
    return UserFactory(role="admin", email="admin@example.com", display_name="管理员")


# --- SMTP -------------------------------------------------------------------------------------------


class SmtpSink:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.envelopes.append(envelope)
        return "250 Message accepted"

    @property
    def messages(self):
        return [message_from_bytes(e.original_content, policy=default_policy) for e in self.envelopes]


SMTP_USER, SMTP_PASSWORD = "kefu", "s3cr@t"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server():
    """A real SMTP server requiring AUTH (allowed without TLS on loopback). Yields (sink, port)."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


# --- HTTP receiver ----------------------------------------------------------------------------------


class Receiver:
    """Records each request; answers with the next status of `statuses` (the last one repeats) or
    401 when the signature does not verify against `secret`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses = [200]
        self.secret = ""
        self.lock = threading.Lock()

    def answer(self, signature_ok: bool) -> int:
        with self.lock:
            if not signature_ok:
                return 401
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = verify_signature(receiver.secret, body, self.headers.get("X-Kefu-Signature", ""))
        status = receiver.answer(ok)
        receiver.requests.append(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
                "json": json.loads(body) if body else None,
                "signature_ok": ok,
                "status": status,
            }
        )
        reply = f"status {status} 收到".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):  # quiet
        pass


@pytest.fixture
def receiver():
    """A real HTTP server in a thread. `receiver.url` is its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    rec = Receiver()
    server.receiver = rec  # type: ignore[attr-defined]
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/kefu"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
