"""Console pages for channel configuration (mailboxes) and mail records."""

from kefu.channels.views import mailboxes

app_name = "channels"
urlpatterns: list = [*mailboxes.urlpatterns]
