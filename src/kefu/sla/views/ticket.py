"""Where agents see SLA: the panel on the ticket page."""

urlpatterns: list = []
