"""Process-level hooks between layers (not domain events: those go through kefu.core.events)."""

from django.dispatch import Signal

# sent by `kefu seed-demo` after it created the demo organization (and tickets), with now=<datetime>;
# higher apps (SLA, …) add their demo configuration in receivers, so lower apps never import them
demo_seeded = Signal()
