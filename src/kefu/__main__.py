"""The `kefu` command.

kefu serve [--host H] [--port P] [--workers N] [--with-worker] [--with-smtpd]
                                                                 production WSGI server (gunicorn)
kefu worker                                                      background worker (Huey)
kefu smtpd [--host H] [--port P]                                 receive piped mail for the mailboxes
kefu seed-demo [--tickets N] [--seed S]                          demo organization and tickets
kefu token create|list|revoke …                                  API tokens
kefu <any Django management command>                             migrate, createsuperuser, shell, …
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

ALIASES = {"worker": "run_huey", "seed-demo": "seed_demo"}


def _django(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kefu", *argv])


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kefu serve", description="Run the production web server (gunicorn, WSGI)."
    )
    parser.add_argument("--host", default=os.environ.get("KEFU_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("KEFU_WEB_WORKERS", (os.cpu_count() or 1) + 1))
    )
    parser.add_argument("--with-worker", action="store_true", help="also run the background worker")
    parser.add_argument(
        "--with-smtpd", action="store_true", help="also run `kefu smtpd` (mail for the mailboxes, 127.0.0.1)"
    )
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)

    _django(["collectstatic", "--noinput", "--verbosity", "0"])
    procs: list[subprocess.Popen] = []
    if args.with_worker:
        procs.append(subprocess.Popen([sys.executable, "-m", "kefu", "worker"]))  # noqa: S603
    if args.with_smtpd:
        procs.append(subprocess.Popen([sys.executable, "-m", "kefu", "smtpd"]))  # noqa: S603
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "kefu.config.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "--max-requests",
        "20000",
        "--max-requests-jitter",
        "2000",
        "--graceful-timeout",
        "10",
    ]
    if args.access_log:
        cmd += ["--access-logfile", "-"]
    web = subprocess.Popen(cmd)  # noqa: S603
    procs.append(web)

    def stop(signum, frame):
        for p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = web.wait()
    stop(None, None)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    return code


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    if argv[0] == "serve":
        return serve(argv[1:])
    if argv[0] in ALIASES:
        argv[0] = ALIASES[argv[0]]
    _django(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
