"""Sealing credentials at rest with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The keys come from ``FLOWDECK_CREDENTIALS_KEY`` (or ``_FILE``): one or more Fernet keys,
comma-separated, the first one sealing and all of them opening, so a key can be rotated
(``manage.py flowdeck_credentials rotate``). Without it, a key is generated into the data dir
on first use, which is right for one machine; several machines must share one key (check
flowdeck.E004).
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from flowdeck.env import generated_secret


class CredentialKeyError(Exception):
    """A sealed value that none of the configured keys opens (a wrong or lost key)."""


@cache
def _fernet() -> MultiFernet:
    configured = settings.FLOWDECK_CREDENTIALS_KEY
    raw = configured or generated_secret(
        Path(settings.DATA_DIR) / "credentials_key", lambda: Fernet.generate_key().decode()
    )
    try:
        keys = [Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()]
    except (ValueError, TypeError) as exc:
        # Never echo the value: it is a secret.
        raise ImproperlyConfigured(
            "FLOWDECK_CREDENTIALS_KEY must be Fernet keys (32 url-safe base64 bytes), "
            "comma-separated; make one with: python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())'"
        ) from exc
    if not keys:
        raise ImproperlyConfigured("FLOWDECK_CREDENTIALS_KEY holds no key")
    return MultiFernet(keys)


def reset_keys() -> None:
    """Forget the loaded keys (tests that change the setting)."""
    _fernet.cache_clear()


def seal(data: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()


def unseal(token: str) -> dict[str, Any]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialKeyError(
            "a credential could not be decrypted: FLOWDECK_CREDENTIALS_KEY does not hold the key "
            "it was saved with"
        ) from None


def reseal(token: str) -> str:
    """The same data sealed with the first (newest) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialKeyError("a credential could not be decrypted with any key") from None
