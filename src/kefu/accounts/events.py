from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

TOKEN_CREATED = register("token.created", _("API token {name} created"))
TOKEN_REVOKED = register("token.revoked", _("API token {name} revoked"))
