"""Create an API token for a user (and optionally the user) and print its key.

Keys are stored hashed (people/tokens.py), so a key is printed once, when it is made: a second
call for the same token name cannot print it again, and says so; ``--rotate`` replaces it.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from people import tokens
from people.models import ApiToken

VIA = " from the command line (manage.py flowdeck_token)"


class Command(BaseCommand):
    help = (
        "Create an API token for a user (Authorization: Token <key>) and print its key, "
        "which is shown this once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--name", default="cli", help="The token's name (default: cli); one per name."
        )
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Create the user (with no password: token only) if it does not exist.",
        )
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the user's token of this name (its old key stops working).",
        )

    @transaction.atomic
    def handle(
        self, *args, username: str, name: str, create_user: bool, rotate: bool, **options
    ) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            if not create_user:
                raise CommandError(
                    f"No user {username!r}; pass --create-user to create one."
                ) from None
            user = User.objects.create_user(username=username)  # unusable password
        # No one is logged in here: the audit names the token's user, and says where from.
        existing = ApiToken.objects.filter(user=user, name=name.strip()).first()
        if existing is not None:
            if not rotate:
                raise CommandError(
                    f"{username} already has a token named {existing.name!r} (created "
                    f"{existing.created_at:%Y-%m-%d}); keys are stored hashed and cannot be "
                    "printed again. Pass --rotate to replace it, or --name for another token."
                )
            tokens.do_revoke_token(actor=user, token=existing, why=VIA)
        try:
            _, key = tokens.do_create_token(actor=user, user=user, name=name, via=VIA)
        except tokens.TokenInvalid as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(key)
