"""System checks for deployments that would misbehave (``manage.py check``; IDs flowdeck.E0xx)."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register("flowdeck")
def check_deployment_mode(app_configs, **kwargs) -> list:
    errors = []
    machines = settings.FLOWDECK_MACHINES
    if settings.EMBEDDED and machines > 1:
        errors.append(
            Error(
                f"FLOWDECK_MACHINES={machines} but the database is SQLite, a file on one machine.",
                hint="Set DATABASE_URL to a PostgreSQL database shared by every machine.",
                id="flowdeck.E001",
            )
        )
    if machines > 1 and not settings.REDIS_URL:
        errors.append(
            Error(
                f"FLOWDECK_MACHINES={machines} but REDIS_URL is not set: live updates and the "
                "task queue cannot cross machines.",
                hint="Set REDIS_URL to a Redis server that every machine reaches.",
                id="flowdeck.E003",
            )
        )
    if machines > 1 and not settings.FLOWDECK_CREDENTIALS_KEY:
        errors.append(
            Error(
                f"FLOWDECK_MACHINES={machines} but FLOWDECK_CREDENTIALS_KEY is not set: each "
                "machine would generate its own key and could not open the others' credentials.",
                hint="Set FLOWDECK_CREDENTIALS_KEY (or _FILE) to the same Fernet key everywhere.",
                id="flowdeck.E004",
            )
        )
    if not settings.EMBEDDED and not settings.REDIS_URL:
        errors.append(
            Warning(
                "DATABASE_URL is set without REDIS_URL: the queue polls PostgreSQL and live "
                "updates stay inside each process.",
                hint="Set REDIS_URL for scale-out mode.",
                id="flowdeck.W001",
            )
        )
    return errors


@register("flowdeck")
def check_base_url(app_configs, **kwargs) -> list:
    """Task emails carry absolute links (engine/tasklinks.py); a worker has no request to take
    the host from, so without FLOWDECK_BASE_URL they would point at 127.0.0.1."""
    if settings.EMAIL_HOST and not settings.FLOWDECK_BASE_URL_SET:
        return [
            Warning(
                "FLOWDECK_EMAIL_HOST is set without FLOWDECK_BASE_URL: the approve and reject "
                f"links in task emails point at {settings.FLOWDECK_BASE_URL}.",
                hint="Set FLOWDECK_BASE_URL to the address people open Flowdeck at, e.g. "
                "https://flowdeck.example.com.",
                id="flowdeck.W002",
            )
        ]
    return []


@register("flowdeck")
def check_redis_reachable(app_configs, **kwargs) -> list:
    url = settings.REDIS_URL
    if not url:
        return []
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return [
            Error(
                f"REDIS_URL is set but Redis does not answer: {exc}",
                hint="Start Redis, or unset REDIS_URL for the embedded mode.",
                id="flowdeck.E002",
            )
        ]
    finally:
        client.close()
    return []
