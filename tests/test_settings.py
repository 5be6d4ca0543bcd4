"""Production settings refuse unsafe values; the embedded default needs no variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _check(settings_module: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_ENC"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


SAFE = {
    "DJANGO_SECRET_KEY": "x" * 30 + "-production-secret-" + "y" * 30,
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DJANGO_ALLOWED_HOSTS": "example.com",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**SAFE, "DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
        ({k: v for k, v in SAFE.items() if k != "DJANGO_SECRET_KEY"}, "DJANGO_SECRET_KEY is required"),
        ({k: v for k, v in SAFE.items() if k != "FIELD_ENCRYPTION_KEYS"}, "FIELD_ENCRYPTION_KEYS is required"),
    ],
)
def test_production_refuses_unsafe_configuration(env, message):
    result = _check("shipping.settings.production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_passes_check_deploy():
    result = _check("shipping.settings.production", **SAFE)
    assert result.returncode == 0, result.stderr + result.stdout
