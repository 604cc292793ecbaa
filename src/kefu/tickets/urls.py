from kefu.tickets.views import calls, customers, home, inbox, ticket

urlpatterns = [
    *home.urlpatterns,
    *inbox.urlpatterns,
    *ticket.urlpatterns,
    *calls.urlpatterns,
    *customers.urlpatterns,
]
