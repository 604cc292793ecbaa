"""ASGI entry point, reserved for real-time features (Channels); HTTP is served through WSGI."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
application = get_asgi_application()
