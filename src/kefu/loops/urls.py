"""Closed-loop pages, mounted at /loops/ by config/urls.py. Each views module owns its routes."""

from kefu.loops.views import urlpatterns as _patterns

app_name = "loops"
urlpatterns = _patterns
