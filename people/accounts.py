"""Users: created, changed, deactivated and given passwords only here (STYLE 1), each change
audited (people/audit.py) with its actor.

A new user gets a password in one of two ways, never one typed by staff:
- ``one_time``: the server makes one up and returns it once; the first login with it must
  choose a new one (people/passwords.py) before reaching anything else.
- ``link``: a set-password link (Django's password-reset token: it expires after
  ``PASSWORD_RESET_TIMEOUT``, and works once, since it is bound to the password it replaces).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from people import audit, tokens
from people.models import Account

User = get_user_model()

PASSWORD_SETUPS = ("one_time", "link")
EDITABLE = ("first_name", "last_name", "email", "is_staff")


class AccountInvalid(Exception):
    """Bad input for a user; ``errors`` in the API's shape."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


class AccountConflict(Exception):
    """A change the user's state forbids (staff deactivating themselves); a 409."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _error(field: str, code: str, message: str) -> dict:
    return {"node": None, "edge": None, "field": field, "code": code, "message": message}


@dataclass(frozen=True)
class Issued:
    """A way in, given once: a one-time password, or the path of a set-password link."""

    setup: str
    password: str | None = None
    link_path: str | None = None
    expires_at: datetime | None = None


def must_change_password(user: AbstractBaseUser) -> bool:
    return Account.objects.filter(user=user, must_change_password=True).exists()


def password_status(user: AbstractBaseUser, flagged: bool) -> str:
    """``usable``, ``must_change`` (a one-time password), or ``unset`` (waiting for a link)."""
    if not user.has_usable_password():
        return "unset"
    return "must_change" if flagged else "usable"


def _flag(user: AbstractBaseUser, value: bool) -> None:
    Account.objects.update_or_create(user=user, defaults={"must_change_password": value})


def _issue(user: AbstractBaseUser, setup: str) -> Issued:
    if setup == "one_time":
        password = secrets.token_urlsafe(12)
        # Stored as a salted hash like any password; the plain text exists only in the answer.
        # A new hash also ends the user's sessions (Django checks it on every request).
        user.set_password(password)
        user.save(update_fields=["password"])
        _flag(user, True)
        return Issued(setup, password=password)
    if not user.has_usable_password():
        # A fresh unusable password: links issued before this one stop working.
        user.set_unusable_password()
        user.save(update_fields=["password"])
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    expires = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    return Issued(setup, link_path=reverse("set-password", args=[uid, token]), expires_at=expires)


def check_username(username: str) -> str:
    # Case-insensitive: "Bob" beside "bob" would be two people to the database and one to
    # everybody reading an assignee list.
    if User.objects.filter(username__iexact=username).exists():
        raise AccountInvalid([_error("username", "unique", f"a user named {username} exists")])
    return username


@transaction.atomic
def do_create_user(
    *,
    actor: AbstractBaseUser,
    username: str,
    password_setup: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_staff: bool = False,
    groups: list[Group] | tuple[Group, ...] = (),
) -> tuple[AbstractBaseUser, Issued]:
    """A new active user with the password set up as ``password_setup`` says."""
    check_username(username)
    user = User.objects.create_user(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=is_staff,
    )
    user.groups.set(groups)
    issued = _issue(user, password_setup)
    names = ", ".join(sorted(g.name for g in groups)) or "none"
    how = {"one_time": "one-time password issued.", "link": "set-password link issued."}
    audit.record(
        actor,
        user,
        audit.ADDITION,
        f"Created user {username} (staff: {'yes' if is_staff else 'no'}; groups: {names}); "
        + how[password_setup],
    )
    return user, issued


@transaction.atomic
def do_update_user(
    *, actor: AbstractBaseUser, user: AbstractBaseUser, groups: list[Group] | None = None, **changes
) -> AbstractBaseUser:
    """Change names, email, staff and groups; only what differs is saved and audited."""
    if set(changes) - set(EDITABLE):
        raise TypeError(f"not editable: {sorted(set(changes) - set(EDITABLE))}")
    if changes.get("is_staff") is False and user.pk == actor.pk:
        raise AccountConflict("own_staff", "you cannot take away your own staff status")
    # In EDITABLE's order, so that the audit reads the same whatever the body's order.
    changed = [n for n in EDITABLE if n in changes and getattr(user, n) != changes[n]]
    for name in changed:
        setattr(user, name, changes[name])
    if changed:
        user.save(update_fields=changed)
    if groups is not None:
        before = set(user.groups.values_list("pk", flat=True))
        if before != {g.pk for g in groups}:
            user.groups.set(groups)
            changed.append("groups")
    if changed:
        audit.record(actor, user, audit.CHANGE, audit.changed_fields(user, changed))
    return user


def _end_sessions(user: AbstractBaseUser) -> int:
    """Delete the user's sessions. Django's database sessions are not indexed by user, so
    this reads every live one; it runs at a deactivation, which is rare."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def do_deactivate_user(*, actor: AbstractBaseUser, user: AbstractBaseUser) -> AbstractBaseUser:
    """The user can no longer log in; their sessions end and their API tokens are revoked
    (not merely suspended: a reactivation must not bring back keys that may have leaked
    meanwhile). Their workflows, runs and history stay as they are."""
    if user.pk == actor.pk:
        raise AccountConflict("own_account", "you cannot deactivate yourself")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = 0
    for token in user.api_tokens.all():
        tokens.do_revoke_token(actor=actor, token=token, why=" (its user was deactivated)")
        revoked += 1
    # Django refuses an inactive user's session anyway; deleting them keeps a reactivation
    # from reviving a browser left logged in.
    _end_sessions(user)
    audit.record(actor, user, audit.CHANGE, f"Deactivated; {revoked} API token(s) revoked.")
    return user


@transaction.atomic
def do_reactivate_user(*, actor: AbstractBaseUser, user: AbstractBaseUser) -> AbstractBaseUser:
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(actor, user, audit.CHANGE, "Reactivated.")
    return user


@transaction.atomic
def do_issue_password(*, actor: AbstractBaseUser, user: AbstractBaseUser, setup: str) -> Issued:
    """A new one-time password (the old password stops working at once) or a set-password
    link (the old password works until the link is used)."""
    if not user.is_active:
        raise AccountConflict("inactive", "reactivate the user before giving them a password")
    issued = _issue(user, setup)
    what = "one-time password" if setup == "one_time" else "set-password link"
    audit.record(actor, user, audit.CHANGE, f"Issued a {what}.")
    return issued


@transaction.atomic
def do_password_chosen(*, user: AbstractBaseUser, via: str) -> None:
    """The user chose their own password (already saved by Django's form): a one-time
    password's flag is cleared, and the audit says how."""
    _flag(user, False)
    audit.record(user, user, audit.CHANGE, f"Chose a new password ({via}).")
