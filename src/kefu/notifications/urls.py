from kefu.notifications.views import inbox, webhooks

app_name = "notifications"
urlpatterns = [*inbox.urlpatterns, *webhooks.urlpatterns]
