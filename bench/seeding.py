"""What the benches share: a PostgreSQL database created on first use, and fast inserts of seed rows.

Imported by the bench scripts as `seeding` (they run as `python bench/<name>.py`, so bench/ is on sys.path).
"""

import json
from urllib.parse import urlsplit, urlunsplit


def ensure_postgres_database(url: str) -> None:
    """Create the bench database on first use (connecting to the server's `postgres` database)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        psycopg.connect(url.replace("postgres://", "postgresql://", 1)).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        admin = urlunsplit(parts._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')


def insert(model, rows: list[dict]) -> None:
    """Rows with their ids. COPY on PostgreSQL: bulk_create quotes every value in Python, minutes for 100k orders."""
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
        return
    fields = model._meta.concrete_fields
    now = timezone.now()
    # Model defaults are not database defaults: every column is sent, the defaults prepared once.
    template = [
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection)
        for f in fields
    ]
    index = {f.attname: i for i, f in enumerate(fields)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = list(template)
            for name, value in row.items():
                values[index[name]] = json.dumps(value) if isinstance(value, dict | list) else value
            copy.write_row(values)
