"""The settings module as each deployment mode sees it, loaded in a fresh interpreter per case
(settings are read once per process, so the only faithful test is a new process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

DUMP = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "options": db.get("OPTIONS", {}),
    "conn_max_age": db.get("CONN_MAX_AGE"), "health": db.get("CONN_HEALTH_CHECKS"),
    "q": settings.Q_CLUSTER, "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": settings.CACHES["default"]["BACKEND"], "tz": settings.TIME_ZONE,
    "debug": settings.DEBUG, "secret": settings.SECRET_KEY, "data": str(settings.DATA_DIR),
    "email": [settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT,
              settings.EMAIL_USE_TLS, settings.DEFAULT_FROM_EMAIL],
}))
"""

# Variables that select a mode; scrubbed so the developer's own environment cannot leak in.
MODE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "FLOWDECK_DEBUG",
    "FLOWDECK_POLL",
    "FLOWDECK_EMAIL_HOST",
    "FLOWDECK_EMAIL_FROM",
)


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    environ.update({"DJANGO_SETTINGS_MODULE": "flowdeck.settings"})
    environ.setdefault("FLOWDECK_DATA_DIR", str(tmp_path / "var"))
    environ["FLOWDECK_DATA_DIR"] = str(tmp_path / "var")
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", DUMP], cwd=ROOT, env=environ, capture_output=True, text=True
    )


def settings_of(tmp_path: Path, **env: str) -> dict:
    result = load_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_embedded_default_runs_from_the_data_dir_on_sqlite_in_wal_mode(tmp_path):
    s = settings_of(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "var" / "flowdeck.sqlite3")
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert s["options"]["timeout"] >= 5
    assert s["q"]["orm"] == "default" and "redis" not in s["q"]
    assert s["q"]["poll"] == pytest.approx(0.05)
    assert s["tz"] == "UTC"
    assert s["debug"] is False


def test_the_secret_key_is_generated_into_the_data_dir_and_kept_across_starts(tmp_path):
    first = settings_of(tmp_path)["secret"]
    assert (tmp_path / "var" / "secret_key").read_text().strip() == first
    assert settings_of(tmp_path)["secret"] == first
    assert not (ROOT / "secret_key").exists()


def test_debug_is_on_only_when_asked(tmp_path):
    assert settings_of(tmp_path, FLOWDECK_DEBUG="1")["debug"] is True


def test_scale_out_uses_postgresql_redis_and_persistent_connections(tmp_path):
    s = settings_of(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/flowdeck",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "flowdeck"
    # django-q2 needs persistent connections on PostgreSQL (STACK-NOTES: 22 vs 247 tasks/s).
    assert s["conn_max_age"] is None
    assert s["health"] is True
    assert s["q"]["redis"] == "redis://127.0.0.1:6379/3" and "orm" not in s["q"]
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.parametrize(
    ("variable", "junk"),
    [
        ("FLOWDECK_DEBUG", "maybe"),
        ("FLOWDECK_WORKERS", "many"),
        ("FLOWDECK_WORKERS", "0"),
        ("FLOWDECK_POLL", "soon"),
        ("DATABASE_URL", "mysql://root@127.0.0.1/flowdeck"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("FLOWDECK_ALLOWED_HOSTS", "a.example,,b.example"),
    ],
)
def test_junk_in_the_environment_stops_the_process_naming_the_variable(tmp_path, variable, junk):
    result = load_settings(tmp_path, **{variable: junk})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_mail_goes_to_the_log_unless_an_smtp_host_is_set(tmp_path):
    backend, *_ = settings_of(tmp_path)["email"]
    assert backend == "django.core.mail.backends.console.EmailBackend"

    smtp = settings_of(
        tmp_path,
        FLOWDECK_EMAIL_HOST="mail.example.com",
        FLOWDECK_EMAIL_PORT="2525",
        FLOWDECK_EMAIL_FROM="flows@example.com",
    )["email"]
    assert smtp == [
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.com",
        2525,
        True,
        "flows@example.com",
    ]
    bad = load_settings(tmp_path, FLOWDECK_EMAIL_HOST="x", FLOWDECK_EMAIL_PORT="lots")
    assert bad.returncode != 0 and "FLOWDECK_EMAIL_PORT" in bad.stderr
