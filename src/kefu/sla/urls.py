from kefu.sla.views import admin, ticket

app_name = "sla"
urlpatterns = [*admin.urlpatterns, *ticket.urlpatterns]
