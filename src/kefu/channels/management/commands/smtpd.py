"""`kefu smtpd [--host 127.0.0.1] [--port 2525]`: receive mail for the mailboxes over SMTP."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, no_translations

from kefu.channels.smtpd import start_smtpd


class Command(BaseCommand):
    help = (
        "Receive mail for the active mailboxes over SMTP (no AUTH, no TLS: listen on loopback or a "
        "private network behind your MTA). Runs until SIGINT or SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default=None, help="address to listen on (default: $KEFU_SMTPD_HOST or 127.0.0.1)"
        )
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="port to listen on (default: $KEFU_SMTPD_PORT or 2525)",
        )

    @no_translations  # operator output stays in one language (English), like Django's own commands
    def handle(self, *args, **opts):
        port = opts["port"] or settings.KEFU_SMTPD_PORT
        opts["host"] = opts["host"] or settings.KEFU_SMTPD_HOST
        try:
            controller = start_smtpd(opts["host"], port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {opts['host']}:{port}: {exc}") from exc
        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        self.stdout.write(f"kefu smtpd: listening on {opts['host']}:{port} (Ctrl-C or SIGTERM to stop)")
        self.stdout.flush()
        try:
            while not stop.wait(1):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            controller.stop()
        self.stdout.write("kefu smtpd: stopped")
