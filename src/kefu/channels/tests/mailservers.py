"""Real mail servers for tests, on 127.0.0.1 with free ports, one of each per test session (per
pytest-xdist worker):

- `dovecot`: a throwaway Dovecot IMAP server (Debian's `dovecot-imapd`; .ci/run installs it) with
  its own config, users and maildirs in a temporary directory — the mailbox kefu polls, and the
  mail client of the customers kefu writes to;
- `smtp_sink`: an SMTP server (aiosmtpd) that delivers every accepted message into Dovecot, to the
  INBOX of each recipient, and keeps the envelopes it received.

Addresses are mailbox names: use addresses unique to your test (or `dovecot.clear(address)`), since
both servers live for the whole session. Unknown recipients get a mailbox on first delivery.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import imaplib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DOVECOT = os.environ.get("KEFU_TEST_DOVECOT", "/usr/sbin/dovecot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DovecotError(RuntimeError):
    pass


class Dovecot:
    """A Dovecot IMAP server in `root` (plain IMAP on loopback, PLAIN/LOGIN auth, maildirs).

    Run as root, mail is owned by `nobody` and the login processes run as `dovenull` (Dovecot
    refuses root for both); run as any other user, everything runs as that user without chroots."""

    host = "127.0.0.1"

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.users_dir = root / "users"  # one passwd-file per user, read at each login
        self.log_file = root / "dovecot.log"
        self.conf_file = root / "dovecot.conf"
        self.passwords: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    # --- life cycle ------------------------------------------------------------------------------

    def _config(self) -> str:
        root = self.root
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            login_user = _first_user("dovenull", "nobody")
            users = f"default_internal_user = root\ndefault_login_user = {login_user}\n"
            anvil = chroots = ""
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            users = (
                f"default_internal_user = {mail_user.pw_name}\n"
                f"default_login_user = {mail_user.pw_name}\n"
                f"default_internal_group = {_group_name(mail_user.pw_gid)}\n"
            )
            # chroot needs root; auth-worker runs as root unless told otherwise
            anvil = "  chroot =\n"
            chroots = (
                "service imap-login {\n  chroot =\n}\n"
                "service imap-urlauth-login {\n  chroot =\n}\n"
                "service auth-worker {\n  user = $default_internal_user\n}\n"
            )
        (root / "mail").mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        return f"""# kefu test server (generated)
base_dir = {root}/run
state_dir = {root}/state
log_path = {self.log_file}
protocols = imap
listen = {self.host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
{users}first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {self.users_dir}/%Lu
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/mail/%Lu
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# no growing delays after failed logins (tests log in with wrong passwords on purpose)
service anvil {{
{anvil}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{chroots}"""

    def start(self, timeout: float = 15) -> None:
        if not os.path.exists(DOVECOT):
            raise DovecotError(
                f"{DOVECOT} not found: the mail tests need Dovecot (Debian: apt-get install dovecot-imapd)"
            )
        for sub in ("run", "state"):
            (self.root / sub).mkdir(exist_ok=True)
        self.root.chmod(0o755)  # the unprivileged mail and login users must reach their parts
        self.users_dir.mkdir(mode=0o700, exist_ok=True)
        self.conf_file.write_text(self._config())
        with (self.root / "stderr.log").open("wb") as stderr:
            self.proc = subprocess.Popen(  # noqa: S603
                [DOVECOT, "-F", "-c", str(self.conf_file)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise DovecotError(f"Dovecot exited with status {self.proc.returncode}.\n{self.logs()}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1) as s:
                s.settimeout(5)
                greeting = s.recv(200)
                if greeting.startswith(b"* OK"):
                    return
                raise DovecotError(f"Dovecot does not greet (got {greeting!r}).\n{self.logs()}")
            if time.monotonic() > deadline:
                self.stop(cleanup=False)
                raise DovecotError(f"Dovecot did not listen on {self.port} within {timeout}s.\n{self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        parts = []
        for name in ("dovecot.log", "stderr.log"):
            path = self.root / name
            if path.exists() and path.stat().st_size:
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-5000:]}")
        return "\n".join(parts) or "(no log output)"

    def stop(self, cleanup: bool = True) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if cleanup:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- users and mail --------------------------------------------------------------------------

    def add_user(self, address: str, password: str) -> None:
        """Create (or set the password of) the mailbox `address`; takes effect at the next login."""
        address = address.strip().lower()
        if not address or any(c in address for c in ":/\n\r\0") or address.startswith("."):
            raise ValueError(f"unusable IMAP user name {address!r}")
        with self._lock:
            changed = address in self.passwords and self.passwords[address] != password
            self.passwords[address] = password
            encoded = base64.b64encode(password.encode()).decode()
            path = self.users_dir / address
            tmp = self.users_dir / f".{address}.tmp"
            tmp.write_text(f"{address}:{{PLAIN.B64}}{encoded}::::::\n")
            tmp.chmod(0o600)
            os.replace(tmp, path)
            if changed:
                # Dovecot looks at a known passwd-file at most once a second and re-reads it when its
                # mtime changed: move the mtime on and let that second pass
                stamp = int(max(time.time(), path.stat().st_mtime)) + 1
                os.utime(path, (stamp, stamp))
                time.sleep(max(0.0, stamp - time.time()) + 0.05)

    def password(self, address: str) -> str:
        """The password of `address`, creating the mailbox with a random one when it is new."""
        address = address.strip().lower()
        if address not in self.passwords:
            self.add_user(address, secrets.token_urlsafe(12))
        return self.passwords[address]

    @contextlib.contextmanager
    def imap(
        self, address: str, password: str | None = None, folder: str = "INBOX"
    ) -> Iterator[imaplib.IMAP4]:
        """A logged-in IMAP connection with `folder` selected (read-write)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            password = password if password is not None else self.password(address)
            if password.isascii():
                conn.login(address, password)
            else:  # imaplib's LOGIN is ASCII only
                conn.authenticate("PLAIN", lambda _challenge: f"\0{address}\0{password}".encode())
            typ, data = conn.select(folder)
            if typ != "OK":
                raise DovecotError(f"SELECT {folder}: {data!r}")
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def deliver(self, address: str, raw: bytes | EmailMessage) -> int:
        """APPEND `raw` to the INBOX of `address` as that user (unseen). Returns the new UID."""
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes()
        with self.imap(address) as conn:
            typ, data = conn.append("INBOX", "", None, raw)
            if typ != "OK":
                raise DovecotError(f"APPEND for {address}: {data!r}")
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return int(match.group(1)) if match else 0

    def fetch_all(self, address: str, password: str | None = None) -> list[bytes]:
        """Every message in the INBOX of `address`, raw (CRLF line ends), in UID order."""
        return [raw for _uid, raw, _flags in self.messages(address, password)]

    def messages(self, address: str, password: str | None = None) -> list[tuple[int, bytes, set[str]]]:
        """(uid, raw, flags) of every message in the INBOX, in UID order; reading sets no flag."""
        with self.imap(address, password) as conn:
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        found = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode("ascii", "replace")
            uid = int(re.search(r"UID (\d+)", head).group(1))  # type: ignore[union-attr]
            flags_match = re.search(r"FLAGS \(([^)]*)\)", head)
            flags = set(flags_match.group(1).split()) if flags_match else set()
            found.append((uid, item[1], flags))
        return sorted(found, key=lambda m: m[0])

    def sessions_out_bytes(self, address: str, *, at_least: int = 0, wait: float = 3) -> list[int]:
        """Bytes the server sent in each finished IMAP session of `address`, from Dovecot's log
        (waiting up to `wait` seconds until there are `at_least` of them: the log lags a little)."""
        pattern = re.compile(
            rf"imap\({re.escape(address.strip().lower())}\)[^:]*: Info: Disconnected:.*?\bout=(\d+)"
        )
        deadline = time.monotonic() + wait
        while True:
            found = [int(m.group(1)) for m in pattern.finditer(self.log_file.read_text(errors="replace"))]
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def uidvalidity(self, address: str) -> int:
        with self.imap(address) as conn:
            return int(conn.response("UIDVALIDITY")[1][0])

    def clear(self, address: str) -> None:
        """Expunge every message in the INBOX of `address` (UIDs keep counting up)."""
        with self.imap(address) as conn:
            conn.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()


def _die_with_parent() -> None:
    """In the child before exec: Linux sends SIGTERM when the test process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _first_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise DovecotError(f"none of the users {names} exists")


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


# --- SMTP sink -------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str = ""  # the AUTH user name, when the client logged in

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    """Accepts any sender, any recipient and any AUTH login; delivers to Dovecot before answering 250."""

    dovecot: Dovecot
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        data = envelope.original_content
        loop = asyncio.get_running_loop()
        for rcpt in envelope.rcpt_tos:
            await loop.run_in_executor(None, self.dovecot.deliver, rcpt, data)
        login = session.auth_data if session.authenticated else None
        self.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                login=login.decode() if isinstance(login, bytes) else (login or ""),
            )
        )
        return "250 OK delivered"


def _accept_any_login(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword):
        return AuthResult(success=True, auth_data=auth_data.login)
    return AuthResult(success=False, handled=False)


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server for the whole session: host, port, add_user, deliver, fetch_all."""
    problem = ""
    for _attempt in range(3):
        server = Dovecot(Path(tempfile.mkdtemp(prefix="kefu-dovecot-")))
        try:
            server.start()
            problem = ""
            break
        except DovecotError as exc:
            server.stop()
            problem = str(exc)
            if "in use" not in problem:  # else another process took the free port meanwhile: retry
                break
    if problem:
        pytest.fail(f"could not start Dovecot for the mail tests: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _smtp_sink_server(dovecot: Dovecot) -> Iterator[SmtpSink]:
    sink = SmtpSink(dovecot=dovecot, port=free_port())
    controller = Controller(
        sink,
        hostname=sink.host,
        port=sink.port,
        authenticator=_accept_any_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink(_smtp_sink_server: SmtpSink) -> SmtpSink:
    """An SMTP server delivering into `dovecot` (host, port; `messages` received during this test)."""
    _smtp_sink_server.messages.clear()
    return _smtp_sink_server
