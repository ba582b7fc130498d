"""Webhook requests over a real daphne: how long POST /api/hooks/<token>/ takes to answer 202
(unsigned and signed), and how long ?wait= takes to answer 200 with the output of a two-step
run executed by real workers (bench/README.md, "webhook.py").

    .venv/bin/python bench/webhook.py                 # embedded (SQLite, ORM broker)
    .venv/bin/python bench/webhook.py --scale-out     # PostgreSQL + Redis on 127.0.0.1

Requests are sent one after the other on one keep-alive connection; the rate limit is off.
"""

import hashlib
import hmac
import json
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments, summary  # noqa: E402
from bench.ws_latency import start_daphne  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"  # noqa: S105 - a throwaway for this run


def graph(signed: bool) -> dict:
    config = {"signature": {"secret_credential": "bench-hook"}} if signed else {}
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "trigger.webhook", "config": config},
            {"id": "shape", "type": "data.transform", "config": {"value": "{{ input.n * 2 }}"}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "shape"}],
        "output": {"twice": "{{ steps.shape.output }}"},
    }


def url_of(base: str, workflow) -> str:
    from webhooks.models import WebhookEndpoint
    from webhooks.services import token_of

    return f"{base}/api/hooks/{token_of(WebhookEndpoint.objects.get(workflow=workflow))}/"


def timed(client, url: str, count: int, signed: bool, expect: int) -> list[float]:
    latencies = []
    for n in range(count):
        body = json.dumps({"n": n}).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            ts = str(int(time.time()))
            digest = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256)
            headers |= {
                "X-Flowdeck-Timestamp": ts,
                "X-Flowdeck-Signature": "sha256=" + digest.hexdigest(),
            }
        began = time.perf_counter()
        response = client.post(url, content=body, headers=headers)
        latencies.append((time.perf_counter() - began) * 1000)
        assert response.status_code == expect, response.text
    return latencies


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--requests", type=int, default=200, help="per measurement (200)")
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    bench.env["FLOWDECK_WEBHOOK_RATE"] = "off"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daphne = None
    try:
        import httpx

        from connectors.credentials import do_create_credential
        from designer.services import do_create_workflow

        owner = bench.owner()
        do_create_credential(actor=owner, name="bench-hook", kind="secret", data={"value": SECRET})
        plain = do_create_workflow(actor=owner, name="plain", graph=graph(False))
        signed = do_create_workflow(actor=owner, name="signed", graph=graph(True))
        bench.start_workers()
        daphne = start_daphne(bench, port)
        base = f"http://127.0.0.1:{port}"
        count = args.requests
        with httpx.Client(timeout=60) as client:
            timed(client, url_of(base, plain), 10, False, 202)  # warm up
            accepted = timed(client, url_of(base, plain), count, False, 202)
            print(f"{count} unsigned POSTs answered 202: {summary(accepted)}")
            accepted = timed(client, url_of(base, signed), count, True, 202)
            print(f"{count} signed POSTs answered 202: {summary(accepted)}")
            waited = timed(client, url_of(base, plain) + "?wait=30", count // 4, False, 200)
            print(
                f"{count // 4} POSTs with ?wait answered 200 with the output "
                f"(run of 2 steps on the workers): {summary(waited)}"
            )
    finally:
        if daphne is not None:
            daphne.terminate()
            daphne.wait(10)
        bench.close()


if __name__ == "__main__":
    main()
