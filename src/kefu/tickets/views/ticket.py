"""Console: ticket pages."""

urlpatterns: list = []
