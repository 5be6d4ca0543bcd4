"""Tests: the embedded default, or PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

from .base import *  # noqa: F403
from .base import BUILTIN_CHANNEL_ADAPTERS, DATABASES, FAKE_CHANNEL_ADAPTER, VAR_DIR

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-" + "x" * 20
FIELD_ENCRYPTION_KEYS = ["3nY0Tw-ypbN6Gb1n7qoHqm4S5mBrvlNgE5sYUGQLbV8="]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CHANNEL_ADAPTERS = [*BUILTIN_CHANNEL_ADAPTERS, FAKE_CHANNEL_ADAPTER]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
WHITENOISE_AUTOREFRESH = True  # serve from the finders; tests do not run collectstatic
IMPORT_SETTLE_SECONDS = 0
# A file, not memory, so threads (concurrent imports, the in-process Celery worker) share it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Tests never share the demo's broker folder.
if CELERY_BROKER_URL.startswith("filesystem"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "test-broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "test-broker" / "queue"),
        "processed_folder": str(VAR_DIR / "test-broker" / "processed"),
        "control_folder": str(VAR_DIR / "test-broker" / "control"),
        "store_processed": False,
    }
    for _sub in ("queue", "processed", "control"):
        (VAR_DIR / "test-broker" / _sub).mkdir(parents=True, exist_ok=True)
