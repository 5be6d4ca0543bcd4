"""Celery: queues, routes, limits and the beat schedule.

Read by ``shipping.celery`` through ``config_from_object(namespace="CELERY")``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

_env = environ.Env()
_var = Path(_env.str("SHIPPING_VAR_DIR", default=str(Path(__file__).resolve().parents[2] / "var")))
_redis = _env.str("REDIS_URL", default="")

# No REDIS_URL: kombu's filesystem transport carries tasks between web, worker and beat
# through a folder, so the embedded default needs no broker server.
CELERY_BROKER_URL = _env.str("CELERY_BROKER_URL", default=_redis or "filesystem://localhost//")
_broker_dir = _var / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # Retry countdowns stay below this, or Redis would redeliver the task early.
    else {"visibility_timeout": 2 * 60 * 60}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # task bodies are idempotent; redelivery after a crash is safe
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("channels"), Queue("documents"))
CELERY_TASK_ROUTES = {
    "channels.tasks.*": {"queue": "channels"},
    "orders.tasks.render_*": {"queue": "documents"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(_var / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "dispatch-order-imports": {
        "task": "channels.tasks.dispatch_order_imports",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},  # a stalled queue never piles these up
    },
    "sweep-outbox": {
        "task": "channels.tasks.sweep_outbox",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "dispatch-webhooks": {  # API webhooks: announce new orders and labels
        "task": "orders.tasks.dispatch_webhooks",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "release-expired-holds": {
        "task": "orders.tasks.release_expired_holds",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    # Listings (catalog): pushes that a lost task left behind, the 5-minute reconcile, the hourly
    # listing creation and repricer (each store's own clock decides whether it is due).
    "sweep-listing-pushes": {
        "task": "channels.tasks.sweep_listing_pushes",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "dispatch-listing-runs": {
        "task": "channels.tasks.dispatch_listing_runs",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "purge-sync-logs": {
        "task": "channels.tasks.purge_sync_logs",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 60 * 60},
    },
}
