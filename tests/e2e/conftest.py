"""Browser tests: the real server (`kefu serve`, gunicorn) on a freshly seeded demo database, driven by
Playwright through Debian's Chromium. They assert what the user sees; screenshots go to
$KEFU_E2E_ARTIFACTS (default ./var/e2e-artifacts)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """A seeded demo site on SQLite in a temp data dir, served by the production server."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need {CHROMIUM} (Debian package 'chromium'); .ci/run installs it")
    data = Path(tempfile.mkdtemp(prefix="kefu-e2e-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(KEFU_DATA_DIR=str(data), KEFU_DEMO_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT / "src"))
    kefu = [sys.executable, "-m", "kefu"]
    subprocess.run([*kefu, "migrate", "-v0"], env=env, check=True)
    seed = [*kefu, "seed-demo", "--tickets", "300", "--seed", "7"]
    subprocess.run(seed, env=env, check=True, capture_output=True)
    port = _free_port()
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


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser context (zh-hans like a Chinese user's browser) with CSP violations collected."""
    ctx = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.kefu_problems = problems  # type: ignore[attr-defined]
    yield pg
    ctx.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
