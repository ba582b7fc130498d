"""Fault 2 of issue 10: the web process (daphne) is killed with ``kill -9`` after a request's
work committed and before its response reached the client. The client, having no answer,
sends the same request again to a restarted daphne on the same port: with its idempotency key
the work is done exactly once (one decision, one run) and the retry gets the answer the first
request would have had. Real daphne and real workers; on the embedded default and on
PostgreSQL + Redis."""

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from engine.models import HumanTask, Run, RunEvent, TaskDecision
from tests.engine_kit import approval_graph, start, statuses, workflow
from tests.helpers import api_key, free_port, wait_until
from tests.workers import WebServer

pytestmark = pytest.mark.django_db(transaction=True)

DECIDE_PATHS = r"/api/approvals/\d+/decide/"
START_PATHS = r"/api/workflows/\d+/runs/"


class CrashingWeb:
    """daphne that stops dead after the first POST matching ``paths`` committed, then is
    killed there; ``restart`` brings up a plain daphne on the same port."""

    def __init__(self, directory: Path, paths: str) -> None:
        self.marker = directory / "committed"
        self.log = directory / "daphne.log"
        self.port = free_port()
        self.server = WebServer(
            self.log,
            self.port,
            FLOWDECK_TEST_HANG_PATH=paths,
            FLOWDECK_TEST_HANG_MARKER=str(self.marker),
        ).start()
        self.url = self.server.url

    def post_and_kill(self, path: str, token: str, body: dict, headers: dict) -> int:
        """POST; once the request committed, kill -9 daphne. Returns the status the lost
        response had; the client itself saw its connection drop without an answer."""
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(post, self.url + path, token, body, headers)
            wait_until(self.marker.exists, timeout=30, what="the request to commit")
            os.killpg(self.server.process.pid, signal.SIGKILL)
            self.server.process.wait(10)
            with pytest.raises(httpx.TransportError):
                pending.result(timeout=30)
        return int(self.marker.read_text())

    def restart(self) -> None:
        self.server = WebServer(self.log, self.port).start()

    def stop(self) -> None:
        self.server.stop()


def post(url: str, token: str, body: dict, headers: dict | None = None) -> httpx.Response:
    headers = {"Authorization": f"Token {token}", **(headers or {})}
    return httpx.post(url, json=body, headers=headers, timeout=60)


@pytest.fixture
def crashing_web(tmp_path):
    webs: list[CrashingWeb] = []

    def make(paths: str) -> CrashingWeb:
        webs.append(CrashingWeb(tmp_path, paths))
        return webs[-1]

    yield make
    for web in webs:
        web.stop()


def token_of(user) -> str:
    return api_key(user)


def ended(run_id: int) -> Run:
    def done() -> Run | None:
        run = Run.objects.get(pk=run_id)
        return run if run.is_terminal else None

    return wait_until(done, timeout=30, what=f"run {run_id} to end")


def started(run: Run, node: str) -> int:
    return RunEvent.objects.filter(run=run, node_id=node, type="step.started").count()


def test_a_decision_whose_response_died_with_daphne_is_retried_and_recorded_once(
    workers, crashing_web, alice, bob
):
    run = start(workflow(alice, approval_graph()), {"amount": 5}, actor=alice)
    task = wait_until(
        lambda: HumanTask.objects.filter(run=run, status="open").first(),
        timeout=30,
        what="the approval task",
    )
    web = crashing_web(DECIDE_PATHS)
    token = token_of(bob)
    path = f"/api/approvals/{task.pk}/decide/"
    body = {"decision": "approve", "comment": "looks right"}
    key = {"Idempotency-Key": "bob-decides-invoice-5"}

    lost_status = web.post_and_kill(path, token, body, key)

    # The decision committed before daphne died; bob never heard of it.
    assert lost_status == 200
    assert TaskDecision.objects.filter(task=task).count() == 1

    web.restart()
    retry = post(web.url + path, token, body, key)
    reused = post(web.url + path, token, {"decision": "reject"}, key)
    without_key = post(web.url + path, token, body)

    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] == "approved"
    assert [d["user"] for d in retry.json()["decisions"]] == ["bob"]
    assert (reused.status_code, reused.json()["errors"][0]["code"]) == (
        409,
        "idempotency_key_reused",
    )
    assert without_key.status_code == 409
    run = ended(run.pk)
    assert run.status == "succeeded"
    assert statuses(run) == {
        "start": "succeeded",
        "ask": "succeeded",
        "yes": "succeeded",
        "no": "skipped",
    }
    assert TaskDecision.objects.filter(task=task).count() == 1
    assert RunEvent.objects.filter(run=run, type="task.decided").count() == 1
    # The approval moved the run on once: one start of the next step, one end of the task.
    assert started(run, "yes") == 1
    assert RunEvent.objects.filter(run=run, node_id="ask", type="step.succeeded").count() == 1


def test_a_run_start_whose_response_died_with_daphne_is_retried_and_starts_once(
    workers, crashing_web, alice
):
    wf = workflow(alice, approval_graph(assignees={"users": ["alice"]}))
    web = crashing_web(START_PATHS)
    token = token_of(alice)
    path = f"/api/workflows/{wf.pk}/runs/"
    body = {"input": {"amount": 7}, "idempotency_key": "alice-starts-7"}

    lost_status = web.post_and_kill(path, token, body, {})

    assert lost_status == 201
    assert Run.objects.filter(workflow=wf).count() == 1

    web.restart()
    retry = post(web.url + path, token, body)

    assert retry.status_code == 200, retry.text
    run = Run.objects.get(workflow=wf)
    assert retry.json()["id"] == run.pk
    task = wait_until(
        lambda: HumanTask.objects.filter(run=run, status="open").first(),
        timeout=30,
        what="the approval task",
    )
    assert started(run, "start") == 1 and started(run, "ask") == 1
    assert HumanTask.objects.filter(run=run).count() == 1
    assert Run.objects.filter(workflow=wf).count() == 1
    assert task.title == "Pay 7 EUR"
