"""Browser tests: the real server (`kefu serve`, gunicorn) on a freshly seeded demo database, driven by
Playwright through Debian's Chromium. They assert what the user sees; screenshots go to
$KEFU_E2E_ARTIFACTS (default ./var/e2e-artifacts)."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

CHROMIUM = os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "kefu-e2e-pass"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KEFU_E2E_ARTIFACTS") or ROOT / "var" / "e2e-artifacts")

# Assertions wait up to 10 s (Playwright's default is 5 s): CI machines are slow and busy at times.
expect.set_options(timeout=10_000)


SERVER_ENV: dict[str, str] = {}  # the environment the demo server runs with (its data dir)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(env: dict[str, str]) -> None:
    kefu = [sys.executable, "-m", "kefu"]
    subprocess.run([*kefu, "migrate", "-v0"], env=env, check=True)
    seed = [*kefu, "seed-demo", "--tickets", "300", "--seed", "7"]
    subprocess.run(seed, env=env, check=True, capture_output=True)


def _seeded_copy(tmp_path_factory, env: dict[str, str], data: Path) -> None:
    """Under pytest-xdist every worker runs its own server; they share one seeding (the first worker
    seeds a template under a lock, each copies it before its server starts) to save a seed per worker."""
    shared = tmp_path_factory.getbasetemp().parent  # the run's temp dir, common to all workers
    template = shared / "kefu-e2e-seeded"
    with open(shared / "kefu-e2e-seeded.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / ".seeded").exists():
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir()
            _seed({**env, "KEFU_DATA_DIR": str(template)})
            (template / ".seeded").touch()
    shutil.copytree(template, data, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A seeded demo site on SQLite in a temp data dir, served by the production server."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need {CHROMIUM} (Debian package 'chromium'); .ci/run installs it")
    data = Path(tempfile.mkdtemp(prefix="kefu-e2e-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(KEFU_DATA_DIR=str(data), KEFU_DEMO_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT / "src"))
    kefu = [sys.executable, "-m", "kefu"]
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _seeded_copy(tmp_path_factory, env, data)
    else:
        _seed(env)
    port = _free_port()
    SERVER_ENV.update(env)
    proc = subprocess.Popen([*kefu, "serve", "--port", str(port), "--workers", "2"], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=3):  # noqa: S310
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail("kefu serve did not come up")
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def worker(server):
    """The background worker (Huey) of the demo site, for tests whose flow runs jobs (imports,
    retraining); started for the test and stopped after it."""
    proc = subprocess.Popen([sys.executable, "-m", "kefu", "worker"], env=SERVER_ENV)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _open_page(browser, server, locale: str):
    """A fresh browser context in `locale`, with console errors collected; yields the page and,
    when the test is done, fails it if the page reported a Content Security Policy violation."""
    ctx = browser.new_context(base_url=server, locale=locale, viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.kefu_problems = problems  # type: ignore[attr-defined]
    yield pg
    ctx.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


@pytest.fixture
def page(browser, server):
    """A fresh browser context (zh-hans like a Chinese user's browser) with CSP violations collected."""
    yield from _open_page(browser, server, "zh-CN")


@pytest.fixture
def en_page(browser, server):
    """Like `page`, but the browser asks for English (Accept-Language en-US)."""
    yield from _open_page(browser, server, "en-US")


def sign_in(page, username: str, password: str = PASSWORD, next_url: str = "") -> None:
    """Sign in through the login form (found by ids, so in any language); land on `next_url` if given."""
    page.goto("/login/" + (f"?{urlencode({'next': next_url})}" if next_url else ""))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("form:has(#id_username) button[type=submit]").click()


_SESSIONS: dict[str, list] = {}  # username -> cookies of this process's first sign-in (one server each)


def signed_in(page, username: str, next_url: str = "/tickets/") -> None:
    """Start on `next_url` as `username`, signed in. The first call per user signs in through the form;
    later ones reuse that session's cookies, as signing in costs a password hash (~1 s of CPU).
    So a test that uses this must not sign out (that would end the shared session)."""
    cookies = _SESSIONS.get(username)
    if cookies is None:
        sign_in(page, username, next_url=next_url)
        expect(page.get_by_test_id("current-user")).to_be_visible()
        _SESSIONS[username] = [c for c in page.context.cookies() if c["name"] in ("sessionid", "csrftoken")]
    else:
        page.context.add_cookies(cookies)
        page.goto(next_url)


def api_post(page, path: str, data: dict, status: int = 200) -> dict:
    """Given-step shortcut: call the REST API as the signed-in user (browser session + CSRF token)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(f"/api/v1/{path}", data=data, headers={"X-CSRFToken": csrf})
    assert response.status == status, response.text()
    return response.json()


def screenshot(page, name: str) -> Path:
    """A full-page PNG in ARTIFACTS. caret="initial": Playwright's default ("hide") injects a <style>
    element, which the CSP refuses with a console error that the `page` fixture would report."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


def unique(prefix: str = "e2e") -> str:
    """A marker no other test (or seeded ticket) has, to find what a test created."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_ticket(page, **fields) -> dict:
    """A fresh ticket of the test's own (new, in the signed-in agent's team, for a new customer),
    made through the API. Returns the API's JSON (id, number, …)."""
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    payload = {"subject": unique(), "type": "complaint", "customer": {"name": "测试顾客", "phone": phone}}
    return api_post(page, "tickets", {**payload, **fields}, status=201)
