"""API tokens: created and revoked only here (STYLE 1), and checked here for every request and
websocket that sends ``Authorization: Token <key>``.

A key is ``fdt_`` and 256 random bits (the prefix lets secret scanners and people recognise
it). The database keeps its sha256 and its first characters: a stolen dump or a curious
administrator cannot read a key back, and a lost key is replaced, not recovered. Keys issued
before this (Django REST framework's 40 hex digits, moved here by migration 0002) go on
working: a key is looked up by its hash, whatever its shape.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from people import audit
from people.models import ApiToken

KEY_PREFIX = "fdt_"
SHOWN_CHARS = 8  # "fdt_" and four random characters: enough to tell tokens apart
MAX_TOKENS_PER_USER = 50
# last_used_at is a write; once a minute per token is enough to say "used today".
USE_RESOLUTION = timedelta(minutes=1)


class TokenInvalid(Exception):
    """Bad input for a token; ``errors`` in the API's shape."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


def _error(field: str, code: str, message: str) -> dict:
    return {"node": None, "edge": None, "field": field, "code": code, "message": message}


def hash_key(key: str) -> str:
    # surrogatepass: a header may carry anything; it must hash (and match nothing), not raise.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def token_for_key(key: str) -> ApiToken | None:
    """The token with this key, its user loaded; None for an unknown key."""
    if not key:
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()


def note_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def user_for_key(key: str) -> AbstractBaseUser | None:
    """The active user a key belongs to, or None (unknown key, deactivated user)."""
    token = token_for_key(key)
    if token is None or not token.user.is_active:
        return None
    note_use(token)
    return token.user


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token <key>`` parsing (and its 401 with ``WWW-Authenticate:
    Token``), with keys checked against our hashed tokens."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, ApiToken]:
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        note_use(token)
        return token.user, token


def check_token_name(user: AbstractBaseUser, name: str) -> str:
    name = name.strip()
    if not name:
        raise TokenInvalid([_error("name", "blank", "a token needs a name")])
    if len(name) > 100:
        raise TokenInvalid([_error("name", "max_length", "a name has at most 100 characters")])
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise TokenInvalid([_error("name", "unique", f"you already have a token named {name!r}")])
    if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
        raise TokenInvalid(
            [_error("name", "too_many", f"a user holds at most {MAX_TOKENS_PER_USER} tokens")]
        )
    return name


@transaction.atomic
def do_create_token(
    *, actor: AbstractBaseUser, user: AbstractBaseUser, name: str, via: str = ""
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its key, which exists nowhere else after this
    call returns (only its hash is saved)."""
    name = check_token_name(user, name)
    key = new_key()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=hash_key(key), prefix=key[:SHOWN_CHARS]
    )
    audit.record(actor, token, audit.ADDITION, f"Created API token {name!r}{via}.")
    return token, key


@transaction.atomic
def do_revoke_token(*, actor: AbstractBaseUser, token: ApiToken, why: str = "") -> None:
    """Delete the token: the next request with its key gets 401."""
    audit.record(actor, token, audit.DELETION, f"Revoked API token {token.name!r}{why}.")
    token.delete()
