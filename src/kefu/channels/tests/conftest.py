"""Fixtures for the channel tests: real mail servers (see mailservers.py)."""

from kefu.channels.tests.mailservers import _smtp_sink_server, dovecot, smtp_sink  # noqa: F401
