"""The customer portal (magic link or tracking number + phone)."""

from kefu.channels.views import portal

app_name = "portal"
urlpatterns = portal.urlpatterns
