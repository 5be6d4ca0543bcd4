# syntax=docker/dockerfile:1
# One image for web (gunicorn), worker and beat (celery) and the one-shot migrate; see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=shipping.settings.production \
    SHIPPING_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media

# libpq5 for PostgreSQL; fonts and Pango for rendering labels and packing slips.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-droid-fallback \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip pip install . \
 && rm -rf build ./*.egg-info \
 && mkdir -p var/media \
 && chown -R app:app var

USER app
# Settings need a secret and a key to load; these are throwaway and not kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
    FIELD_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())')" \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput \
 && rm -f /tmp/build.sqlite3

EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it; default 1).
CMD ["gunicorn", "shipping.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
