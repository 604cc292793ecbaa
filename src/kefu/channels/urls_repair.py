"""Public repair-request pages (no login)."""

from kefu.channels.views import repair

app_name = "service"
urlpatterns = repair.urlpatterns
