from datetime import datetime

from django.apps import AppConfig


def on_demo_seeded(sender: object, now: datetime, **kwargs: object) -> str:
    from kefu.knowledge.demo import ensure_demo_knowledge

    return ensure_demo_knowledge()


class KnowledgeConfig(AppConfig):
    name = "kefu.knowledge"
    label = "knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.core.signals import demo_seeded
        from kefu.knowledge import events, handlers, tasks  # noqa: F401

        handlers.register()
        demo_seeded.connect(on_demo_seeded, dispatch_uid="knowledge-demo")
