"""The public help center, mounted at /help/ by config/urls.py."""

from django.urls import path

from kefu.knowledge.help import views

app_name = "help"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("categories/<int:pk>/", views.category, name="category"),
    path("articles/<int:pk>/", views.article, name="article_id"),
    path("articles/<int:pk>-<str:slug>/", views.article, name="article"),
    path("articles/<int:pk>/vote/", views.vote, name="vote"),
]
