from django.apps import AppConfig


class LoopsConfig(AppConfig):
    name = "kefu.loops"
    label = "loops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.loops import events, handlers  # noqa: F401  (register event types and reactions)

        handlers.connect()
