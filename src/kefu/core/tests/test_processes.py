"""The real processes a deployment runs: `kefu serve` (gunicorn, DEBUG off) and `kefu worker` (Huey)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from kefu.accounts.services import create_api_token
from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.core.models import WorkerHeartbeat
from kefu.tickets.models import Ticket


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{host}:{port}/{s['NAME']}"


@pytest.fixture
def proc_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "KEFU_"))}
    env.update(
        KEFU_DATA_DIR=str(tmp_path / "var"),
        KEFU_DATABASE_URL=_database_url(),
        KEFU_SECRET_KEY="test-only-secret-key-not-used-elsewhere-0123456789",
        PYTHONPATH=str(Path(__file__).resolve().parents[3]),
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    return None


@pytest.mark.django_db(transaction=True)
def test_kefu_serve_answers_the_api_with_debug_off(proc_env):
    # given a user with a token in the database the server will use
    team = TeamFactory()
    user = UserFactory(role="agent", teams=[team])
    _, token = create_api_token(actor=None, user=user)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kefu", "serve", "--port", str(port), "--workers", "2"],
        env=proc_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:  # noqa: S310
                    return json.loads(r.read())
            except OSError:  # refused, reset or timed out while the workers boot
                return None

        health = _wait_until(healthy)
        assert health and health["status"] == "ok", (
            server.stderr.read(4000) if server.poll() is not None else ""
        )
        # when a ticket is created over HTTP with the bearer token
        body = json.dumps({"subject": "净水器漏水", "customer": {"phone": "+86 139 0013 9000"}}).encode()
        req = urllib.request.Request(  # noqa: S310
            f"{base}/api/v1/tickets",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
                created = json.loads(r.read())
                assert r.status == 201
        except urllib.error.HTTPError as exc:
            pytest.fail(f"{exc.code} {exc.read()[:500]!r}")
        # then it is stored, and an unknown URL is a plain 404 (DEBUG off: no debug page)
        assert Ticket.objects.get(pk=created["id"]).customer.identities.get().value == "+8613900139000"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/no-such-page", timeout=5)  # noqa: S310
        assert err.value.code == 404 and b"Django" not in err.value.read()
        # and static files are served
        with urllib.request.urlopen(f"{base}/static/kefu/base.css", timeout=5) as r:  # noqa: S310
            assert r.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_kefu_worker_runs_enqueued_jobs(proc_env):
    # given a heartbeat job enqueued in the data dir's task queue
    enqueue = "from kefu.core.tasks import record_worker_heartbeat_task as t; t()"
    subprocess.run(
        [sys.executable, "-m", "kefu", "shell", "-c", enqueue], env=proc_env, check=True, capture_output=True
    )
    assert not WorkerHeartbeat.objects.exists()
    # when the real worker runs
    worker = subprocess.Popen(
        [sys.executable, "-m", "kefu", "worker"],
        env=proc_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # then it executes the job against the database
        assert _wait_until(lambda: WorkerHeartbeat.objects.filter(name="worker").exists()), (
            worker.stderr.read(4000) if worker.poll() is not None else "worker did not run the job"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=20)
