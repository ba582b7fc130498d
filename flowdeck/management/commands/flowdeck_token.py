"""Print a user's API token, creating it (and optionally the user) when missing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the API token of a user (Authorization: Token <key>), creating it if needed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Create the user (with no password: token only) if it does not exist.",
        )
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the existing token with a new one."
        )

    @transaction.atomic
    def handle(self, *args, username: str, create_user: bool, rotate: bool, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            if not create_user:
                raise CommandError(
                    f"No user {username!r}; pass --create-user to create one."
                ) from None
            user = User.objects.create_user(username=username)  # unusable password
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
