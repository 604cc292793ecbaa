"""The bot console, mounted at /bot/ by config/urls.py."""

from kefu.bot import views

app_name = "bot"
urlpatterns = views.urlpatterns
