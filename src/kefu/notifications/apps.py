from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kefu.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.notifications import handlers, tasks  # noqa: F401

        handlers.register()
