"""First start: create the first administrator, print its login once, load the examples."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from designer.examples import load_examples


class Command(BaseCommand):
    help = "Create the first admin user (if there is no superuser yet) and print its login."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    @transaction.atomic
    def handle(self, *args, username: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "An administrator exists already; its password is not shown again "
                f"(reset it with: .venv/bin/python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        # create_superuser stores only the salted hash; the plain text exists in this output alone.
        admin = User.objects.create_superuser(username=username, email="", password=password)
        examples = load_examples(admin)
        self.stdout.write(self.style.SUCCESS("First administrator created. Log in with:"))
        self.stdout.write(f"    username: {username}")
        self.stdout.write(f"    password: {password}")
        self.stdout.write("This password is printed once and stored only as a hash.")
        self.stdout.write(f"{len(examples)} example workflows loaded.")
