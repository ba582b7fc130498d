"""API tokens and the account flags Django's user lacks. Rows change only through
``people/tokens.py`` and ``people/accounts.py`` (STYLE 1)."""

from datetime import datetime

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A named key a user's scripts send as ``Authorization: Token <key>``. Only the key's
    sha256 is kept: it can be checked, never read back. A user may hold several (one per
    script or machine), each revoked on its own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # sha256 of the key, hex: 256 random bits need no salt, and the unique index is how a
    # request finds its token in one lookup.
    key_hash = models.CharField(max_length=64, unique=True)
    # The key's first characters, shown to tell tokens apart; too short to guess the rest.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    # Updated at most once a minute per token (people/tokens.py), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="apitoken_one_name_per_user")
        ]

    def __str__(self) -> str:
        return f"API token {self.name!r} of {self.user}"


class Account(models.Model):
    """What Flowdeck keeps about a user beyond Django's fields. No row means all defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Set with a one-time password: the next login must choose a new password before
    # anything else (people/passwords.py).
    must_change_password = models.BooleanField(default=False)

    class Meta:
        ordering = ["user"]

    def __str__(self) -> str:
        return f"account of {self.user}"


class Absence(models.Model):
    """A user is out of office from ``starts_at`` until ``ends_at``: tasks assigned to them by
    name in that window go to ``deputy`` (engine/transitions.py ``_apply_absences``). Written
    only through people/absences.py, which keeps a user's absences apart and free of loops."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deputising"
    )
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="absence_ends_after_it_starts",
            ),
        ]
        indexes = [models.Index(fields=["user", "ends_at"], name="absence_user_ends")]

    def __str__(self) -> str:
        return f"absence of {self.user} until {self.ends_at:%Y-%m-%d}"

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at
