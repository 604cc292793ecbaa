"""Admin pages: business calendars, SLA policies and their escalation ladders."""

urlpatterns: list = []
