from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "kefu.channels"
    label = "kefu_channels"  # "channels" is Django Channels' label
    verbose_name = "channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.channels import handlers, tasks  # noqa: F401

        handlers.register()
