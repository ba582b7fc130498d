"""``manage.py flowdeck_credentials rotate``: seal every credential again with the first key of
FLOWDECK_CREDENTIALS_KEY. Rotation: put the new key first, keep the old one after it, run
this, then drop the old key."""

from django.core.management.base import BaseCommand, CommandError

from connectors.credentials import do_rotate_key
from connectors.crypto import CredentialKeyError


class Command(BaseCommand):
    help = "Credential key maintenance: rotate (re-seal every credential with the first key)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["rotate"])

    def handle(self, *args, action: str, **options) -> None:
        try:
            count = do_rotate_key()
        except CredentialKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"re-sealed {count} credential(s) with the first key")
