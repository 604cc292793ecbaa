from django.core.management.base import BaseCommand, CommandError, no_translations

from kefu.accounts.models import User
from kefu.accounts.selectors import list_api_tokens
from kefu.accounts.services import create_api_token, revoke_api_token
from kefu.audit.context import audit_context
from kefu.core.errors import DomainError


class Command(BaseCommand):
    help = "Manage API tokens: create USERNAME [--name N] | list USERNAME | revoke TOKEN_ID"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create")
        c.add_argument("username")
        c.add_argument("--name", default="cli")
        ls = sub.add_parser("list")
        ls.add_argument("username")
        r = sub.add_parser("revoke")
        r.add_argument("token_id", type=int)

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"no user named {username!r}") from exc

    @no_translations  # operator output stays in one language (English), like Django's own commands
    def handle(self, *args, **opts):
        with audit_context("cli"):
            try:
                if opts["action"] == "create":
                    user = self._user(opts["username"])
                    token, raw = create_api_token(actor=None, user=user, name=opts["name"])
                    self.stdout.write(f"Created API token #{token.pk} '{token.name}' for {user.username}.")
                    self.stdout.write("Send it as 'Authorization: Bearer <token>'. It is shown only once:")
                    self.stdout.write(raw)
                elif opts["action"] == "list":
                    user = self._user(opts["username"])
                    for t in list_api_tokens(user=user):
                        state = "revoked" if t.revoked_at else "active"
                        used = t.last_used_at.isoformat() if t.last_used_at else "never"
                        self.stdout.write(f"{t.pk}\t{t.prefix}…\t{t.name}\t{state}\tlast used {used}")
                else:
                    t = revoke_api_token(actor=None, token_id=opts["token_id"])
                    self.stdout.write(f"Revoked API token #{t.pk}.")
            except DomainError as exc:
                raise CommandError(exc.message) from exc
