"""The knowledge-base console, mounted at /kb/ (the help center has its own, /help/)."""

from kefu.knowledge.views import articles, dictionary, replies

app_name = "knowledge"
urlpatterns = [*articles.urlpatterns, *replies.urlpatterns, *dictionary.urlpatterns]
