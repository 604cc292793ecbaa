"""Every SLA write: clocks that follow tickets, the periodic scan and ladder steps, and the
configuration of calendars, policies and ladders."""

from kefu.sla.services.escalation import ScanResult, fire_step, process_timer, scan_due_timers
from kefu.sla.services.lifecycle import (
    on_message_added,
    on_status_changed,
    rematch_ticket_sla,
    start_ticket_sla,
)
from kefu.sla.services.timers import MATCH_FIELDS

__all__ = [
    "MATCH_FIELDS",
    "ScanResult",
    "fire_step",
    "on_message_added",
    "on_status_changed",
    "process_timer",
    "rematch_ticket_sla",
    "scan_due_timers",
    "start_ticket_sla",
]
