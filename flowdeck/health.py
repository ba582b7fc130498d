"""``/healthz``: is this process able to serve, and is anyone executing the queue?

Anonymous on purpose (load balancers and supervisors call it), so it reveals states and
counts only, never hosts, names or error details beyond their class.
"""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.status import Stat

logger = logging.getLogger(__name__)

# django-q2 cluster states that mean "able to take tasks".
_LIVE_STATES = frozenset({Conf.IDLE, Conf.WORKING})


def database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("healthz: database unreachable: %s", exc)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def broker_health(broker) -> dict:
    try:
        # The ORM broker's ping() is always True; queue_size() really queries it.
        broker.ping()
        queued = broker.queue_size()
    except Exception as exc:
        logger.warning("healthz: broker unreachable: %s", exc)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "kind": "redis" if Conf.REDIS else "orm", "queued": queued}


def workers_health(broker) -> dict:
    """Clusters that saved a statistic in the last few seconds (django-q2 expires them at 3 s)."""
    try:
        stats = Stat.get_all(broker=broker)
    except Exception as exc:
        logger.warning("healthz: cannot read worker statistics: %s", exc)
        return {"ok": False, "error": type(exc).__name__, "clusters": 0, "workers": 0}
    live = [stat for stat in stats if stat.status in _LIVE_STATES]
    workers = sum(len(stat.workers) for stat in live)
    return {"ok": bool(live), "clusters": len(live), "workers": workers}


@never_cache
@require_safe  # GET, or HEAD: some load balancers check with HEAD
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_health()}
    try:
        broker = get_broker()
    except Exception as exc:
        logger.warning("healthz: no broker: %s", exc)
        checks["broker"] = {"ok": False, "error": type(exc).__name__}
        checks["workers"] = {"ok": False, "clusters": 0, "workers": 0}
    else:
        checks["broker"] = broker_health(broker)
        checks["workers"] = workers_health(broker)
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)
