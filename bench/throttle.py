"""What an API rate-limit check costs per request: ``UserRateThrottle.allow_request`` against
the throttle cache, one client and 200 clients taking turns. No database is needed.

    .venv/bin/python bench/throttle.py                # embedded: the file cache
    .venv/bin/python bench/throttle.py --scale-out    # Redis (REDIS_URL, or db 13 on 127.0.0.1)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-out", action="store_true", help="Redis on 127.0.0.1")
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    os.environ["FLOWDECK_DATA_DIR"] = tempfile.mkdtemp(prefix="flowdeck-bench-")
    os.environ.pop("DATABASE_URL", None)
    if args.scale_out:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    else:
        os.environ.pop("REDIS_URL", None)
    # Never over the rate, so every call counts; on Redis the keys expire within the hour.
    os.environ["FLOWDECK_API_RATE_USER"] = "1000000/hour"
    os.environ["DJANGO_SETTINGS_MODULE"] = "flowdeck.settings"
    import django

    django.setup()
    from django.core.cache import caches

    from flowdeck.throttling import CACHE_ALIAS, UserRateThrottle

    backend = type(caches[CACHE_ALIAS]).__name__
    print(f"throttle cache: {backend}; {args.calls} checks each")
    for clients in (1, 200):
        users = [SimpleNamespace(pk=10_000 + n, is_authenticated=True) for n in range(clients)]
        times = []
        for n in range(args.calls):
            request = SimpleNamespace(user=users[n % clients])
            started = time.perf_counter()
            assert UserRateThrottle().allow_request(request, None)
            times.append((time.perf_counter() - started) * 1e6)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{clients:>4} client(s): median {statistics.median(times):7.0f} µs, p95 {p95:7.0f} µs"
        )


if __name__ == "__main__":
    main()
