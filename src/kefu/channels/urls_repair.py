"""Public repair-request pages (no login)."""

app_name = "service"
urlpatterns: list = []
