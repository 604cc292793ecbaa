from django.shortcuts import render

from kefu.tickets.selectors import TicketFilters, list_tickets


def home(request):
    """Landing page: links for everyone; a signed-in user's open tickets (the full console is the
    agent-workspace issue)."""
    tickets = []
    if request.user.is_authenticated:
        tickets, _ = list_tickets(
            actor=request.user, filters=TicketFilters(status=["new", "open", "pending", "on_hold"]), limit=20
        )
    return render(request, "tickets/home.html", {"tickets": tickets})
