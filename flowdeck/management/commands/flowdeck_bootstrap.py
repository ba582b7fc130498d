"""First start: create the first administrator, print its login once, load the examples, and
create the groups the examples assign tasks to, with the administrator in them, so that every
example runs as shipped ("Invoice approval" asks the finance group)."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from designer.examples import load_examples
from people.groups import do_ensure_groups, groups_named_by


class Command(BaseCommand):
    help = (
        "Create the first admin user (if there is no superuser yet), the example workflows and "
        "the groups they name, and print the login."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    @transaction.atomic
    def handle(self, *args, username: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            # Nothing else either: the groups and examples are the first start's, and a restart
            # must not put back what an administrator has removed since.
            self.stdout.write(
                "An administrator exists already; its password is not shown again "
                f"(reset it with: .venv/bin/python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        # create_superuser stores only the salted hash; the plain text exists in this output alone.
        admin = User.objects.create_superuser(username=username, email="", password=password)
        examples = load_examples(admin)
        # Derived from the graphs, so that a new example naming a new group needs no change here.
        names = set().union(*(groups_named_by(wf.versions.get().graph) for wf in examples))
        do_ensure_groups(actor=admin, names=names)
        self.stdout.write(self.style.SUCCESS("First administrator created. Log in with:"))
        self.stdout.write(f"    username: {username}")
        self.stdout.write(f"    password: {password}")
        self.stdout.write("This password is printed once and stored only as a hash.")
        if names:
            self.stdout.write(
                f"{username} is in the groups {', '.join(sorted(names))}, which the examples "
                "assign tasks to: their approvals reach your Inbox. Manage people and groups "
                "on the People page."
            )
        self.stdout.write(f"{len(examples)} example workflows loaded.")
