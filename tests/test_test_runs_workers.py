"""Run one step of a draft on real worker processes (issue 18): a data.transform, an
http.request against the local test server and a code.function with its log, each with its
upstream step pinned (so not run), through the API as the designer calls it."""

import pytest

from engine.models import Run
from tests.engine_kit import build, fn, workflow
from tests.http_server import LocalServer, Reply
from tests.test_engine_workers import ended

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def workers(local_http_workers):
    return local_http_workers


@pytest.fixture
def server(settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = ["127.0.0.1/32"]
    with LocalServer() as running:
        yield running


def run_step(api, alice, graph: dict, node: str, pins: dict) -> dict:
    """Pin ``pins``, test ``node`` as the designer does, wait for the run's end; the step."""
    wf = workflow(alice, graph)
    api.force_authenticate(alice)
    for name, output in pins.items():
        put = api.put(f"/api/workflows/{wf.pk}/pins/{name}/", {"output": output}, format="json")
        assert put.status_code == 200, put.json()
    response = api.post(
        f"/api/workflows/{wf.pk}/test-runs/", {"graph": graph, "node": node}, format="json"
    )
    assert response.status_code == 201, response.json()
    run = ended(Run.objects.get(pk=response.json()["id"]))
    body = api.get(f"/api/runs/{run.pk}/").json()
    return {step["node"]: step for step in body["steps"]} | {"run": body}


def test_a_data_transform_runs_alone_on_its_pinned_input(workers, api, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "fetch": fn("noop"),
            "shape": ("data.transform", {"value": {"total": "{{ steps.fetch.output.a + 1 }}"}}),
        },
        ["start>fetch", "fetch>shape"],
    )

    found = run_step(api, alice, graph, "shape", {"fetch": {"a": 41}})

    assert found["run"]["status"] == "succeeded" and found["run"]["test"], workers.log()
    assert found["shape"]["output"] == {"total": 42}
    assert (found["fetch"]["status"], found["fetch"]["attempt"]) == ("succeeded", 0)


def test_an_http_request_calls_the_service_with_the_pinned_data(workers, api, alice, server):
    server.reply("/orders/7", Reply(200, {"id": 7, "state": "paid"}))
    call = {"url": server.url("/orders/{{ steps.pick.output.id }}"), "method": "GET"}
    graph = build(
        {"start": ("trigger.manual",), "pick": fn("noop"), "call": ("http.request", call)},
        ["start>pick", "pick>call"],
    )

    found = run_step(api, alice, graph, "call", {"pick": {"id": 7}})

    assert found["run"]["status"] == "succeeded", workers.log()
    assert found["call"]["output"]["status"] == 200
    assert found["call"]["output"]["body"] == {"id": 7, "state": "paid"}
    assert [seen.path for seen in server.requests] == ["/orders/7"]


def test_a_code_function_runs_with_its_retries_and_its_log(workers, api, alice):
    retry = {"max_attempts": 2, "backoff_s": 0.1, "jitter": False}
    graph = build(
        {
            "start": ("trigger.manual",),
            "prepare": fn("noop"),
            "charge": {**fn("flaky", fail_times=1), "retry": retry},
        },
        ["start>prepare", "prepare>charge"],
    )

    found = run_step(api, alice, graph, "charge", {"prepare": None})

    assert found["run"]["status"] == "succeeded", workers.log()
    assert found["charge"]["output"] == {"attempt": 2}
    logs = api.get(f"/api/runs/{found['run']['id']}/steps/charge/logs/").json()
    assert [a["attempt"] for a in logs["attempts"]] == [1, 2]
    assert logs["attempts"][1]["lines"][-1]["message"] == "attempt 2 succeeded"
