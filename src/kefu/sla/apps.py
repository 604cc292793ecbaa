from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.sla import events, handlers, tasks  # noqa: F401

        handlers.register()
