"""What the outbound-address guard costs: one GET to a local server per new client (as
http.request does: one client per attempt), through ``guarded_client`` and through a plain
httpx.Client, and a guarded client reused for many requests (keep-alive: one check).

    .venv/bin/python bench/http_guard.py [--requests 300]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowdeck.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402

from connectors.netguard import guarded_client  # noqa: E402
from tests.http_server import LocalServer  # noqa: E402


def timed(n: int, call) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def show(name: str, times: list[float]) -> None:
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    print(f"{name:<42} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    with LocalServer() as server:
        url = server.url("/")

        shared = httpx.create_ssl_context()  # as the guard shares one (the CA bundle is slow)

        def plain() -> None:
            with httpx.Client(trust_env=False, verify=shared) as client:
                client.get(url).raise_for_status()

        def plain_fresh() -> None:
            with httpx.Client(trust_env=False) as client:
                client.get(url).raise_for_status()

        def guarded() -> None:
            with guarded_client(allow=["127.0.0.1/32"]) as client:
                client.get(url).raise_for_status()

        for fn in (plain, guarded):  # warm up
            timed(20, fn)
        show("plain httpx.Client, new per request", timed(n, plain))
        show("plain httpx.Client, new CA bundle each", timed(n // 10, plain_fresh))
        show("guarded_client, new per request", timed(n, guarded))
        with guarded_client(allow=["127.0.0.1/32"]) as client:
            show("guarded_client, reused (keep-alive)", timed(n, lambda: client.get(url)))


if __name__ == "__main__":
    main()
