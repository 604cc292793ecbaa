"""`KEFU_EMAIL_URL` → Django's mailer configuration (a `MAILERS["default"]` entry, Django ≥ 6.1; the
old EMAIL_* settings are deprecated). A pure function: settings.py calls it once.

    smtp://user:pass@host:25            plain SMTP (AUTH only when a user and password are given)
    smtp+starttls://user:pass@host:587  SMTP upgraded with STARTTLS (use_tls)
    smtps://user:pass@host:465          implicit TLS (use_ssl)

User and password are percent-decoded (`%40` for `@`). `?timeout=N` sets the socket timeout (default
10 s, so a dead mail server never hangs a worker). Unset or empty: Django's file backend, one file
per message in `mail_dir`, so a demo shows what would have been sent. Errors never echo the password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SCHEMES = {
    # scheme: (default port, STARTTLS, implicit TLS)
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtp+tls": (587, True, False),
    "smtps": (465, False, True),
}
DEFAULT_TIMEOUT = 10


class EmailUrlError(ValueError):
    pass


def parse_email_url(url: str | None, *, mail_dir: Path | str = "mail") -> dict[str, Any]:
    """The mailer (BACKEND and OPTIONS) for `url`; raises EmailUrlError, without the password, when
    the URL is not usable."""
    if not url or not url.strip():
        return {"BACKEND": FILE_BACKEND, "OPTIONS": {"file_path": str(mail_dir)}}
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise EmailUrlError(
            f"KEFU_EMAIL_URL: unsupported scheme {scheme!r}; use one of: {', '.join(sorted(SCHEMES))}"
        )
    default_port, starttls, implicit_tls = SCHEMES[scheme]
    if not parts.hostname:
        raise EmailUrlError("KEFU_EMAIL_URL: the host is missing")
    try:
        port = parts.port or default_port
    except ValueError:
        raise EmailUrlError("KEFU_EMAIL_URL: the port must be a number from 1 to 65535") from None
    timeout = DEFAULT_TIMEOUT
    query = parse_qs(parts.query)
    if "timeout" in query:
        try:
            timeout = int(query["timeout"][-1])
        except ValueError:
            raise EmailUrlError("KEFU_EMAIL_URL: timeout must be a whole number of seconds") from None
    return {
        "BACKEND": SMTP_BACKEND,
        "OPTIONS": {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": starttls,
            "use_ssl": implicit_tls,
            "timeout": timeout,
        },
    }


def redact_email_url(url: str | None) -> str:
    """The URL with its password replaced by `***`, for logs and diagnostics."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()
