"""Compensation (issue 20) through real django-q2 workers and a real HTTP service: the order
the service sees the undos in, what each undo is given (``compensating.output``/``.input``),
parallel branches, a compensation retried by its own policy, one that fails for good (the run
stays compensating, an alert opens) and the operator's skip and retry through the API."""

import pytest
from django.utils import timezone

from alerts.evaluate import evaluate
from alerts.models import Alert, AlertKind, AlertRule
from engine.models import Run, RunEvent
from tests.engine_kit import build, start, steps, workflow
from tests.helpers import wait_until
from tests.http_server import LocalServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def workers(local_http_workers):
    return local_http_workers


@pytest.fixture
def server(settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = ["127.0.0.1/32"]
    with LocalServer() as running:
        yield running


def post(url: str, body: dict | None = None, **more) -> dict:
    config = {"method": "POST", "url": url, **({"body": body} if body is not None else {})}
    return {"type": "http.request", "config": config, **more}


def undo(server: LocalServer, name: str, **more) -> dict:
    body = {
        "undone": "{{ compensating.node }}",
        "output": "{{ compensating.output.body }}",
        "input": "{{ compensating.input.body }}",
    }
    return post(server.url(f"/undo/{name}"), body, **more)


def saga(server: LocalServer, **undo_b) -> dict:
    """start > a > b > c; c's service refuses (400); a and b are undone by ua and ub."""
    return build(
        {
            "start": ("trigger.manual",),
            "a": post(server.url("/a"), {"n": 1}),
            "b": post(server.url("/b"), {"n": 2}),
            "c": post(server.url("/c"), {"n": 3}),
            "ua": undo(server, "a"),
            "ub": undo(server, "b", **undo_b),
        },
        ["start>a", "a>b", "b>c", "a.compensate>ua", "b.compensate>ub"],
    )


def paths(server: LocalServer) -> list[str]:
    return [r.path for r in server.requests]


def ended(run: Run, *statuses: str, timeout: float = 60) -> Run:
    def done() -> Run | None:
        run.refresh_from_db()
        return run if run.status in (statuses or ("succeeded", "failed", "cancelled")) else None

    return wait_until(done, timeout=timeout, what=f"run {run.pk} to be {statuses}")


def types(run: Run) -> list[str]:
    return [
        f"{e.type}:{e.node_id}" if e.node_id else e.type
        for e in RunEvent.objects.filter(run=run).order_by("id")
    ]


def test_a_saga_failing_at_its_third_step_undoes_the_second_then_the_first(workers, server, alice):
    server.reply("/a", Reply(201, {"id": "A1"}))
    server.reply("/b", Reply(201, {"id": "B2"}))
    server.reply("/c", Reply(400, {"error": "refused"}))
    run = start(workflow(alice, saga(server)))

    run = ended(run)

    assert run.status == "failed"
    assert run.error["node"] == "c"
    assert paths(server) == ["/a", "/b", "/c", "/undo/b", "/undo/a"]
    undo_b, undo_a = server.requests[3].json(), server.requests[4].json()
    assert undo_b == {"undone": "b", "output": {"id": "B2"}, "input": {"n": 2}}
    assert undo_a == {"undone": "a", "output": {"id": "A1"}, "input": {"n": 1}}
    # One idempotency key per compensation attempt.
    assert server.requests[3].headers["idempotency-key"] == f"{run.pk}:ub:1"
    seen = types(run)
    assert seen[-2:] == ["run.compensated", "run.failed"]
    assert seen.count("compensation.succeeded:ub") == seen.count("compensation.succeeded:ua") == 1


def test_parallel_branches_are_compensated_in_parallel(workers, server, alice):
    server.reply("/pay", Reply(402, {"error": "declined"}))
    graph = build(
        {
            "start": ("trigger.manual",),
            "x": post(server.url("/x"), {}),
            "y": post(server.url("/y"), {}),
            "pay": post(server.url("/pay"), {}),
            "ux": undo(server, "x"),
            "uy": undo(server, "y"),
        },
        ["start>x", "start>y", "x>pay", "y>pay", "x.compensate>ux", "y.compensate>uy"],
    )
    run = ended(start(workflow(alice, graph)))

    assert run.status == "failed"
    assert sorted(paths(server)[-2:]) == ["/undo/x", "/undo/y"]
    seen = types(run)
    first_done = min(i for i, t in enumerate(seen) if t.startswith("compensation.succeeded"))
    assert {"compensation.started:ux", "compensation.started:uy"} <= set(seen[:first_done])


def test_a_compensation_that_fails_then_succeeds_on_its_retry(workers, server, alice):
    server.reply("/c", Reply(400, {"error": "refused"}))
    server.reply("/undo/b", Reply(503, "busy"), Reply(200, {"ok": True}))
    retry = {"retry": {"max_attempts": 3, "backoff_s": 0}}
    run = ended(start(workflow(alice, saga(server, **retry))))

    assert run.status == "failed"
    assert steps(run)["ub"].attempt == 2
    undo_keys = [r.headers["idempotency-key"] for r in server.requests if r.path == "/undo/b"]
    assert undo_keys == [f"{run.pk}:ub:1", f"{run.pk}:ub:2"]
    assert paths(server)[-1] == "/undo/a"
    assert types(run)[-2:] == ["run.compensated", "run.failed"]


def test_a_compensation_failing_for_good_alerts_and_waits_for_the_operators_skip(
    workers, server, alice, api
):
    server.reply("/c", Reply(400, {"error": "refused"}))
    server.reply("/undo/b", Reply(409, {"error": "too late to cancel"}))
    wf = workflow(alice, saga(server))
    AlertRule.objects.create(
        name="stuck", kind=AlertKind.COMPENSATION_FAILED, workflow=wf, emails=["ops@example.com"]
    )
    run = ended(start(wf), "compensating")
    wait_until(lambda: steps(run)["ub"].status == "failed", what="ub to fail")

    assert "compensation.failed:ub" in types(run)
    assert steps(run)["ua"].status == "pending"  # a waits for b's undo
    evaluate(timezone.now())
    alert = Alert.objects.get(rule__kind=AlertKind.COMPENSATION_FAILED)
    assert alert.key == f"run:{run.pk}" and "ub" in alert.summary

    api.force_login(alice)
    listed = api.get("/api/runs/?status=compensating").json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    refused = api.post(f"/api/runs/{run.pk}/steps/c/retry/", {}, format="json")
    assert refused.status_code == 409
    skipped = api.post(f"/api/runs/{run.pk}/steps/ub/skip/", {"reason": "done by hand"})
    assert skipped.status_code == 200, skipped.content

    run = ended(run)
    assert run.status == "failed" and run.error["node"] == "c"
    assert steps(run)["ua"].status == "succeeded"
    assert types(run)[-2:] == ["run.compensated", "run.failed"]
    evaluate(timezone.now())
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_the_operators_retry_of_a_failed_compensation_finishes_compensating(
    workers, server, alice, api
):
    server.reply("/c", Reply(400, {"error": "refused"}))
    server.reply("/undo/b", Reply(409, {"error": "locked"}), Reply(200, {"ok": True}))
    run = ended(start(workflow(alice, saga(server))), "compensating")
    wait_until(lambda: steps(run)["ub"].status == "failed", what="ub to fail")

    api.force_login(alice)
    retried = api.post(f"/api/runs/{run.pk}/steps/ub/retry/", {}, format="json")
    assert retried.status_code == 200, retried.content

    run = ended(run)
    assert run.status == "failed"
    assert (steps(run)["ub"].status, steps(run)["ub"].attempt) == ("succeeded", 2)
    assert types(run)[-2:] == ["run.compensated", "run.failed"]
    detail = api.get(f"/api/runs/{run.pk}/").json()
    by_node = {s["node"]: s for s in detail["steps"]}
    assert (by_node["ub"]["compensates"], by_node["b"]["compensated_by"]) == ("b", "ub")
    assert (by_node["c"]["compensates"], by_node["c"]["compensated_by"]) == (None, None)
