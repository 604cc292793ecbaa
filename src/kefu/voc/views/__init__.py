"""Voice-of-customer pages; each module lists its own routes in `urlpatterns`."""

from __future__ import annotations

from django.urls import URLPattern

from kefu.voc.views import dashboards, feedback, imports, insights, models, reviews, taxonomy

urlpatterns: list[URLPattern] = [
    *dashboards.urlpatterns,
    *feedback.urlpatterns,
    *taxonomy.urlpatterns,
    *imports.urlpatterns,
    *reviews.urlpatterns,
    *models.urlpatterns,
    *insights.urlpatterns,
]
