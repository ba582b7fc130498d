"""The one place people-and-access changes are written to the audit log: Django's admin
``LogEntry`` (flowdeck/admin.py shows it, read-only), so that a change made in the app and one
made in the admin read alike in one list, each with its actor and time.

Messages never hold a secret: no password, no set-password link, no token key or prefix.
"""

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import models

__all__ = ["ADDITION", "CHANGE", "DELETION", "record", "changed_fields"]


def record(actor: AbstractBaseUser, obj: models.Model, flag: int, message: str | list) -> None:
    """One audit row: ``actor`` did ``flag`` (added, changed, deleted) to ``obj``. Call it
    inside the change's transaction, before a deletion (the row needs the object's id)."""
    LogEntry.objects.log_actions(actor.pk, [obj], flag, message, single_object=True)


def changed_fields(obj: models.Model, names: list[str]) -> list[dict[str, Any]]:
    """The admin's own message for an edit ("Changed Email and Groups."), from field names."""
    labels = []
    for name in names:
        try:
            labels.append(str(obj._meta.get_field(name).verbose_name).capitalize())
        except models.FieldDoesNotExist:
            labels.append(name.replace("_", " ").capitalize())
    return [{"changed": {"fields": labels}}]
