from kefu.tickets.views import assist, calls, customers, home, inbox, search, ticket

urlpatterns = [
    *home.urlpatterns,
    *inbox.urlpatterns,
    *ticket.urlpatterns,
    *calls.urlpatterns,
    *customers.urlpatterns,
    *assist.urlpatterns,
    *search.urlpatterns,
]
