"""Symmetric encryption of secrets at rest (Fernet), with key rotation.

``settings.FIELD_ENCRYPTION_KEYS`` lists Fernet keys newest first: the first encrypts, every key
decrypts, so a new key can be prepended, ``rotate_encryption_keys`` run, then the old key dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING = "FIELD_ENCRYPTION_KEYS"


class DecryptionError(ValueError):
    """A token no configured key can decrypt (wrong/missing key, or corrupt data)."""


_UNDECRYPTABLE = f"No key in {SETTING} can decrypt this value (wrong key or corrupt data)."


def get_multifernet() -> MultiFernet:
    keys = getattr(settings, SETTING, None)
    if isinstance(keys, str | bytes) or not isinstance(keys, Sequence):
        raise ImproperlyConfigured(f"{SETTING} must be a list of Fernet keys, newest first.")
    # Keyed on the keys themselves, so even a change outside override_settings is picked up.
    return _build(tuple(keys))


@functools.lru_cache(maxsize=4)
def _build(keys: tuple[str | bytes, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            f"{SETTING} is empty: set it to one or more Fernet keys, newest first "
            "(generate one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        )
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # Never echo the key: it is a secret even when malformed.
            raise ImproperlyConfigured(
                f"{SETTING}[{index}] is not a valid Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
    return MultiFernet(fernets)


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == SETTING:
        _build.cache_clear()


def encrypt_text(plaintext: str) -> str:
    return get_multifernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return get_multifernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(_UNDECRYPTABLE) from None


def rotate_token(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (keeps its original timestamp)."""
    try:
        return get_multifernet().rotate(token.encode()).decode("ascii")
    except InvalidToken:
        raise DecryptionError(_UNDECRYPTABLE) from None
