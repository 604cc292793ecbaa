"""Console: customers pages."""

urlpatterns: list = []
