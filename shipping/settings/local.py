"""The embedded default for a developer laptop: runs with no variable and no server."""

import secrets

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import BUILTIN_CHANNEL_ADAPTERS, FAKE_CHANNEL_ADAPTER, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
CHANNEL_ADAPTERS = env.list("CHANNEL_ADAPTERS", default=[*BUILTIN_CHANNEL_ADAPTERS, FAKE_CHANNEL_ADAPTER])


def _local_secret(name: str, make) -> str:
    """A secret kept in var/ so restarts keep sessions and stored credentials readable."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = SECRET_KEY or _local_secret("secret_key", lambda: secrets.token_urlsafe(50))  # noqa: F405
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [  # noqa: F405
    _local_secret("field_encryption_key", lambda: Fernet.generate_key().decode())
]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
