"""Console pages (server-rendered, htmx). One module per area; each exports `urlpatterns`.

Views are thin: parse the request (forms/filters), call selectors and services, render templates.
"""
