"""Console pages for channel configuration (mailboxes) and mail records."""

app_name = "channels"
urlpatterns: list = []
