"""The customer portal (magic link or tracking number + phone)."""

app_name = "portal"
urlpatterns: list = []
