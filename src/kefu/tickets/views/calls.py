"""Console: calls pages."""

urlpatterns: list = []
