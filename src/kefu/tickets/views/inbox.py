"""Console: inbox pages."""

urlpatterns: list = []
