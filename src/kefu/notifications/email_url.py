"""`KEFU_EMAIL_URL` → Django EMAIL_* settings. A pure function: settings.py calls it once.

    smtp://user:pass@host:25            plain SMTP (AUTH only if a user is given)
    smtp+starttls://user:pass@host:587  SMTP upgraded with STARTTLS (EMAIL_USE_TLS)
    smtps://user:pass@host:465          implicit TLS (EMAIL_USE_SSL)

User and password are percent-decoded (`%40` for `@`). `?timeout=N` sets EMAIL_TIMEOUT (default 10 s).
Unset or empty: Django's file backend writing one file per message to `mail_dir`, so a demo shows
what would have been sent. Errors never echo the password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = {
    # scheme: (default port, use STARTTLS, use implicit TLS)
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtp+tls": (587, True, False),
    "smtps": (465, False, True),
}
DEFAULT_TIMEOUT = 10


class EmailUrlError(ValueError):
    pass


def parse_email_url(url: str | None, *, mail_dir: Path | str | None = None) -> dict[str, Any]:
    """The EMAIL_* settings for `url`; raises EmailUrlError (without the password) when it is bad."""
    if not url or not url.strip():
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir) if mail_dir is not None else "mail",
        }
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
    query = parse_qs(parts.query)
    timeout = DEFAULT_TIMEOUT
    if "timeout" in query:
        try:
            timeout = int(query["timeout"][-1])
        except ValueError:
            raise EmailUrlError("KEFU_EMAIL_URL: timeout must be a whole number of seconds") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": starttls,
        "EMAIL_USE_SSL": implicit_tls,
        "EMAIL_TIMEOUT": timeout,
    }


def redact_email_url(url: str | None) -> str:
    """The URL with its password replaced by `***`, for logs and diagnostics."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
