"""Tests: the embedded default, or PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-" + "x" * 20
FIELD_ENCRYPTION_KEYS = ["3nY0Tw-ypbN6Gb1n7qoHqm4S5mBrvlNgE5sYUGQLbV8="]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CHANNEL_ADAPTERS = ["channels.manual.ManualAdapter", "channels.fake.FakeAdapter"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
IMPORT_SETTLE_SECONDS = 0
# A file, not memory, so threads (concurrent imports, the in-process Celery worker) share it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
