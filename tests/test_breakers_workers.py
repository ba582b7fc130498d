"""Circuit breakers through real worker processes: two ``flowdeck_worker`` clusters of one
worker each share a breaker through the database; its state survives their restarts (and a
kill -9); an open breaker fails attempts at once without a request; the half-open probe closes
it; an operator's close is audited."""

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from engine.models import BreakerState, CircuitBreaker, Run
from engine.states import RUN_TERMINAL
from tests.engine_kit import build, start, steps, workflow
from tests.helpers import wait_until
from tests.http_server import LocalServer, Reply
from tests.workers import Workers

pytestmark = pytest.mark.django_db(transaction=True)

OPEN_S = 15


@pytest.fixture(scope="module")
def clusters(django_db_setup, tmp_path_factory):
    logs = tmp_path_factory.mktemp("breaker-workers")
    made = [
        Workers(
            logs / f"cluster-{index}.log",
            FLOWDECK_WORKERS="1",
            FLOWDECK_HTTP_ALLOW_NETWORKS="127.0.0.1/32",
        )
        for index in range(2)
    ]
    yield made
    for cluster in made:
        cluster.stop()


@pytest.fixture
def server(settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = ["127.0.0.1/32"]
    with LocalServer() as running:
        yield running


def finished(run: Run) -> Run:
    return wait_until(
        lambda: Run.objects.filter(pk=run.pk, status__in=RUN_TERMINAL).first(),
        timeout=60,
        what=f"run {run.pk} to end",
    )


def run_to_end(wf) -> dict:
    return steps(finished(start(wf)))["call"].error or {}


def breaker() -> CircuitBreaker:
    return CircuitBreaker.objects.get()


def test_two_worker_processes_share_one_breaker_across_restarts(
    clusters, server, alice, api, admin
):
    first, second = clusters
    server.reply("/pay", Reply(503, {"down": True}))
    node = {
        "type": "http.request",
        "config": {
            "url": server.url("/pay"),
            "circuit_breaker": {"failures": 4, "window_s": 300, "open_s": OPEN_S},
        },
    }
    wf = workflow(alice, build({"start": ("trigger.manual",), "call": node}, ["start>call"]))

    # Given two failures counted by the first cluster's worker process...
    first.start()
    assert [run_to_end(wf)["code"] for _ in range(2)] == ["http_status"] * 2
    assert (breaker().state, breaker().failures) == (BreakerState.CLOSED, 2)
    first.stop()

    # ...and two by the second's, started after the first stopped: the count survived.
    second.start()
    assert [run_to_end(wf)["code"] for _ in range(2)] == ["http_status"] * 2
    assert (breaker().state, breaker().failures) == (BreakerState.OPEN, 4)
    assert len(server.requests) == 4

    # Open for both processes: attempts fail at once, and the service sees no request.
    first.start()
    codes = [run_to_end(wf) for _ in range(4)]
    assert {(e["code"], e["retryable"]) for e in codes} == {("circuit_open", True)}
    assert len(server.requests) == 4

    # kill -9 of both, then a restart: still open.
    first.kill()
    second.kill()
    first.start()
    assert timezone.now() < breaker().retry_at, "the restart took longer than OPEN_S"
    assert run_to_end(wf)["code"] == "circuit_open"
    assert len(server.requests) == 4

    # Half-open after open_s: the one probe goes, succeeds and closes it.
    server.reply("/pay", Reply(200, {"paid": True}))
    wait_until(lambda: timezone.now() > breaker().retry_at, timeout=OPEN_S + 30, what="half-open")
    assert run_to_end(wf) == {}
    assert (breaker().state, breaker().failures, len(server.requests)) == ("closed", 0, 5)

    # Open again, then an operator closes it by hand: audited, and calls go through again.
    server.reply("/pay", Reply(500))
    for _ in range(4):
        run_to_end(wf)
    assert breaker().state == BreakerState.OPEN
    api.force_authenticate(admin)
    assert api.post(f"/api/breakers/{breaker().pk}/close/").status_code == 200
    entry = LogEntry.objects.get(object_id=str(breaker().pk))
    assert entry.user_id == admin.pk and "by hand" in entry.change_message
    server.reply("/pay", Reply(200))
    assert run_to_end(wf) == {}
    assert len(server.requests) == 10
