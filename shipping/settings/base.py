"""Every setting, read from the environment (django-environ).

With no variable set the app runs on its embedded default: SQLite under ``var/``, a Celery broker
on the filesystem (no server), a file cache and an in-process rate limiter. ``DATABASE_URL``
switches to PostgreSQL; ``REDIS_URL`` switches broker, cache, locks and rate limits to Redis.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("SHIPPING_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.smart_cast = False

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us, no CDN
    "django_filters",
    "django_htmx",
    "template_partials",
    "shipping.core",
    "shipping.accounts",
    "channels.apps.ChannelsConfig",
    "orders.apps.OrdersConfig",
    "catalog.apps.CatalogConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "orders.api.middleware.ApiPathMiddleware",  # ShipStation paths are case-insensitive
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "shipping.accounts.middleware.MerchantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shipping.urls"
WSGI_APPLICATION = "shipping.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shipping.accounts.context_processors.merchant",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------------
# SQLite runs writers in IMMEDIATE transactions so web, worker and beat never deadlock on the
# read-to-write lock upgrade; the timeout lets a writer wait for another instead of failing.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, cache, locks, rate limits ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# The rate limiter shared by every worker: Redis when there is one, else in-process.
RATE_LIMITER_URL = env.str("RATE_LIMITER_URL", default=REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    # No EMAIL_URL: messages are written as files under var/emails/, where a person can open them.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "emails")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shipping@localhost")

# --- credentials at rest --------------------------------------------------------------------------
# Comma-separated Fernet keys, newest first. Older keys still decrypt; `rotate_encryption_keys`
# re-encrypts every stored secret with the newest.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- channels ---------------------------------------------------------------------------------------
BUILTIN_CHANNEL_ADAPTERS = [
    "channels.manual.ManualAdapter",
    "channels.backmarket.adapter.BackMarketAdapter",
    "channels.listingmirror.adapter.ListingMirrorAdapter",
    "channels.listingmirror.adapter.CustomStoreAdapter",
]
# The demo and test marketplace; never registered in production.
FAKE_CHANNEL_ADAPTER = "channels.fake.FakeAdapter"
CHANNEL_ADAPTERS = env.list("CHANNEL_ADAPTERS", default=BUILTIN_CHANNEL_ADAPTERS)
IMPORT_OVERLAP_MINUTES = env.int("IMPORT_OVERLAP_MINUTES", default=10)
IMPORT_SETTLE_SECONDS = env.int("IMPORT_SETTLE_SECONDS", default=120)
IMPORT_INITIAL_LOOKBACK_DAYS = env.int("IMPORT_INITIAL_LOOKBACK_DAYS", default=30)
IMPORT_MAX_PAGES = env.int("IMPORT_MAX_PAGES", default=500)
IMPORT_LEASE_SECONDS = env.int("IMPORT_LEASE_SECONDS", default=15 * 60)
CHANNEL_HTTP_CONNECT_TIMEOUT = env.float("CHANNEL_HTTP_CONNECT_TIMEOUT", default=5.0)
CHANNEL_HTTP_READ_TIMEOUT = env.float("CHANNEL_HTTP_READ_TIMEOUT", default=30.0)
CHANNEL_CALL_RETENTION_DAYS = env.int("CHANNEL_CALL_RETENTION_DAYS", default=14)
SYNC_LOG_RETENTION_DAYS = env.int("SYNC_LOG_RETENTION_DAYS", default=90)
DOCUMENT_CHUNK_SIZE = env.int("DOCUMENT_CHUNK_SIZE", default=50)  # caps WeasyPrint's memory per render
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# Called by orders services, in their transaction, with the ids of orders whose lines, status or shipments
# changed (orders.services.stock_hooks): the catalog's stock follows them. Not a signal: explicit call sites.
ORDER_STOCK_HOOKS = ["catalog.services.stock.stock_sync_orders"]
# Overrides of an adapter's documented marketplace limits, by channel kind (tests and benches shrink them).
# Back Market: catalog_limit/catalog_window (20 per 10 s), backbox_limit/backbox_window (2 per 1 s),
# listing_lines_per_hour (2,000) and quantity_reserve (the part of it price changes leave to quantities).
CHANNEL_LIMITS: dict[str, dict[str, float]] = {}
LISTING_RECONCILE_MINUTES = env.int("LISTING_RECONCILE_MINUTES", default=5)
LISTING_PUSH_BATCH = env.int("LISTING_PUSH_BATCH", default=200)  # pushes one delivery task takes at once

# --- REST API (ShipStation API v1 compatible, under /api/v1/) -------------------------------------
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=40)  # per API key, as ShipStation
API_TIME_ZONE = env.str("API_TIME_ZONE", default="America/Los_Angeles")  # ShipStation's dates are Pacific
# Webhook targets on loopback or private addresses are refused (SSRF) unless this is set (tests, LAN setups).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_SETTLE_SECONDS = env.int("WEBHOOK_SETTLE_SECONDS", default=30)  # let slower transactions commit first
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)  # backoff 1, 2, 4 ... minutes, then failed
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shipping API (ShipStation API v1 compatible)",
    "DESCRIPTION": "Point a ShipStation API v1 client at http://HOST/api/v1 instead of https://ssapi.shipstation.com.",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "WeightUnitsEnum": ["pounds", "ounces", "grams"],
        "DimensionUnitsEnum": ["inches", "centimeters"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "orders.api.schema.add_rate_limit_headers_and_errors",
    ],
}

from .celery import *  # noqa: E402,F403
from .logging import *  # noqa: E402,F403

# --- documents ---
# Images on packing slips (item thumbnails, logos) are fetched by orders.documents.fetch: public
# addresses only (no SSRF to localhost, the LAN or cloud metadata), within these limits.
# Allowing private addresses is for tests and benchmarks that serve images from 127.0.0.1.
DOCUMENT_FETCH_ALLOW_PRIVATE = env.bool("DOCUMENT_FETCH_ALLOW_PRIVATE", default=False)
DOCUMENT_FETCH_MAX_BYTES = env.int("DOCUMENT_FETCH_MAX_BYTES", default=2 * 1024 * 1024)
DOCUMENT_FETCH_CONNECT_TIMEOUT = env.float("DOCUMENT_FETCH_CONNECT_TIMEOUT", default=3.0)
DOCUMENT_FETCH_TIMEOUT = env.float("DOCUMENT_FETCH_TIMEOUT", default=5.0)  # one image, redirects included
DOCUMENT_FETCH_MAX_REDIRECTS = env.int("DOCUMENT_FETCH_MAX_REDIRECTS", default=3)
DOCUMENT_IMAGE_MAX_PIXELS = env.int("DOCUMENT_IMAGE_MAX_PIXELS", default=25_000_000)  # decoded size cap
