"""Voice-of-customer pages, mounted at /voc/ by config/urls.py. Each views module owns its routes."""

from kefu.voc.views import urlpatterns as _patterns

app_name = "voc"
urlpatterns = _patterns
