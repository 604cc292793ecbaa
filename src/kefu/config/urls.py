from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kefu.config.api import api
from kefu.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("sla/", include("kefu.sla.urls")),
    path("notifications/", include("kefu.notifications.urls")),
    path("channels/", include("kefu.channels.urls")),
    path("service/", include("kefu.channels.urls_repair")),
    path("portal/", include("kefu.channels.urls_portal")),
    path("help/", include("kefu.knowledge.help.urls")),
    path("kb/", include("kefu.knowledge.urls")),
    path("bot/", include("kefu.bot.urls")),
    path("voc/", include("kefu.voc.urls")),
    path("loops/", include("kefu.loops.urls")),
    path("", include("kefu.tickets.urls")),
]
