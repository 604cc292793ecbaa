from django.apps import AppConfig


class VocConfig(AppConfig):
    name = "kefu.voc"
    label = "voc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.voc import events, handlers  # noqa: F401  (register event types and reactions)

        handlers.connect()

        from kefu.core.events import subscribe
        from kefu.voc.textmodels import tasks as textmodel_tasks  # Huey tasks + nightly retrain

        subscribe(events.FEEDBACK_LABELLED.verb, textmodel_tasks.on_feedback_labelled)
