from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "kefu.knowledge"
    label = "knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.knowledge import handlers, tasks  # noqa: F401

        handlers.register()
