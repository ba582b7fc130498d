"""Alerts through real worker processes: two ``flowdeck_worker`` commands, each with its own
sweeper evaluating the rules, report one failure with one webhook POST."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts.models import Alert, AlertKind, AlertRule, Delivery
from tests.engine_kit import build, fn, start, workflow
from tests.helpers import wait_until
from tests.workers import Workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def two_sweepers(django_db_setup, tmp_path_factory):
    logs = tmp_path_factory.mktemp("alert-workers")
    started = []
    try:
        for index in range(2):
            started.append(
                Workers(
                    logs / f"worker-{index}.log",
                    FLOWDECK_ALERTS_INTERVAL_S="0.2",
                    FLOWDECK_HTTP_ALLOW_NETWORKS="127.0.0.1/32",
                ).start()
            )
        yield started
    finally:
        for workers in started:
            workers.stop()


@pytest.fixture
def receiver():
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_two_sweepers_report_a_failed_run_with_one_webhook(two_sweepers, receiver, alice):
    url, received = receiver
    graph = build(
        {"start": ("trigger.manual",), "work": fn("flaky", fail_times=9, retryable=False)},
        ["start>work"],
    )
    wf = workflow(alice, graph)
    AlertRule.objects.create(
        name="failed", kind=AlertKind.RUN_FAILED, workflow=wf, webhook_url=url, cooldown_s=3600
    )
    run = start(wf)

    alert = wait_until(
        lambda: Alert.objects.filter(key=f"run:{run.pk}", webhook_status=Delivery.SENT).first(),
        timeout=60,
        what="the alert's webhook",
    )
    # Both sweepers keep evaluating the live incident (last_seen_at moves on) and send nothing.
    wait_until(
        lambda: (
            Alert.objects.get(pk=alert.pk).last_seen_at
            > alert.last_sent_at + timedelta(seconds=1.5)
        ),
        timeout=30,
        what="more evaluations of the incident",
    )
    assert len(received) == 1, [w.log() for w in two_sweepers]
    assert Alert.objects.get(pk=alert.pk).sends == 1
