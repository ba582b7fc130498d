"""Comparing two runs (GET /api/runs/compare/) and two attempts of a step
(GET /api/runs/{id}/steps/{node}/compare/) through DRF's client, on runs driven in-process."""

import pytest

from designer.models import Role, WorkflowGrant
from designer.services import do_save_version
from tests.engine_kit import build, drive, flaky_run, fn, noop, start, workflow


def adder_graph(**extra_nodes) -> dict:
    """``start > calc > after``: calc adds 1 to the input's x."""
    nodes = {
        "start": ("trigger.manual",),
        "calc": fn("add", a="{{ input.x }}", b=1),
        "after": noop(),
        **extra_nodes,
    }
    edges = ["start>calc", "calc>after"] + [f"after>{n}" for n in extra_nodes]
    return build(nodes, edges)


@pytest.fixture
def wf(alice):
    return workflow(alice, adder_graph(), name="Adder")


def ran(wf, x, actor):
    run = start(wf, {"x": x}, actor=actor)
    drive()
    run.refresh_from_db()
    return run


def compare_url(a, b):
    return f"/api/runs/compare/?a={a}&b={b}"


def by_node(body):
    return {row["node"]: row for row in body["steps"]}


# --- Two runs -----------------------------------------------------------------------------------


def test_two_runs_of_one_version_compare_step_by_step(api, alice, wf):
    one, two = ran(wf, 1, alice), ran(wf, 2, alice)
    api.force_authenticate(alice)

    response = api.get(compare_url(one.pk, two.pk))

    assert response.status_code == 200
    body = response.json()
    assert (body["a"]["id"], body["b"]["id"]) == (one.pk, two.pk)
    assert (body["a"]["version"], body["a"]["status"], body["a"]["input"]) == (
        1,
        "succeeded",
        {"x": 1},
    )
    assert body["a"]["duration_ms"] is not None
    assert [row["node"] for row in body["steps"]] == ["start", "calc", "after"]
    calc = by_node(body)["calc"]
    assert calc["type"] == "code.function"
    assert (calc["a"]["output"], calc["b"]["output"]) == (2, 3)
    assert calc["a"]["status"] == calc["b"]["status"] == "succeeded"
    assert calc["a"]["attempts"] == 1
    assert isinstance(calc["a"]["duration_ms"], int)
    assert calc["changed"] == {
        "status": False,
        "attempts": False,
        "input": True,
        "output": True,
        "error": False,
    }
    assert by_node(body)["after"]["changed"]["output"] is False
    assert body["versions"] is None  # the same version


def test_runs_of_two_versions_carry_the_graph_diff(api, alice, wf):
    one = ran(wf, 1, alice)
    graph = adder_graph(extra=noop())
    graph["nodes"][1]["config"]["args"]["b"] = 10  # calc adds 10 now
    graph["nodes"][1]["label"] = "Add ten"
    do_save_version(actor=alice, workflow=wf, graph=graph, base_version=1)
    wf.refresh_from_db()
    two = ran(wf, 1, alice)
    api.force_authenticate(alice)

    body = api.get(compare_url(one.pk, two.pk)).json()

    assert body["versions"] == {
        "a": 1,
        "b": 2,
        "same_workflow": True,
        "nodes": {
            "added": ["extra"],
            "removed": [],
            "changed": [{"id": "calc", "fields": ["label", "config.args"]}],
        },
        "edges": {
            "added": [{"source": "after", "source_handle": "out", "target": "extra"}],
            "removed": [],
        },
        "other": [],
    }
    extra = by_node(body)["extra"]
    assert extra["a"] is None and extra["b"]["status"] == "succeeded"
    assert extra["changed"]["status"] is True
    assert (by_node(body)["calc"]["a"]["output"], by_node(body)["calc"]["b"]["output"]) == (2, 11)


def test_a_failed_step_shows_its_error_beside_the_other_run_s_success(api, alice):
    graph = build(
        {"start": ("trigger.manual",), "pay": fn("flaky", fail_times="{{ input.fail }}")},
        ["start>pay"],
    )
    wf = workflow(alice, graph, name="Pay")
    bad = start(wf, {"fail": 1}, actor=alice)
    good = start(wf, {"fail": 0}, actor=alice)
    drive()
    api.force_authenticate(alice)

    pay = by_node(api.get(compare_url(bad.pk, good.pk)).json())["pay"]

    assert (pay["a"]["status"], pay["b"]["status"]) == ("failed", "succeeded")
    assert "failed on purpose" in pay["a"]["error"]["message"]
    assert pay["b"]["error"] is None
    assert pay["changed"]["status"] and pay["changed"]["error"]


def test_missing_or_malformed_ids_are_a_400_naming_the_field(api, alice, wf):
    run = ran(wf, 1, alice)
    api.force_authenticate(alice)

    missing = api.get(f"/api/runs/compare/?a={run.pk}")
    junk = api.get(f"/api/runs/compare/?a=first&b={run.pk}")
    zero = api.get(f"/api/runs/compare/?a={run.pk}&b=0")

    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "b"
    assert missing.json()["errors"][0]["code"] == "required"
    assert junk.status_code == 400 and junk.json()["errors"][0]["field"] == "a"
    assert zero.status_code == 400 and zero.json()["errors"][0]["field"] == "b"


def test_an_unknown_run_is_404(api, alice, wf):
    run = ran(wf, 1, alice)
    api.force_authenticate(alice)

    assert api.get(compare_url(run.pk, 999999)).status_code == 404
    assert api.get(compare_url(999999, run.pk)).status_code == 404


def test_both_runs_must_be_visible_to_the_caller(api, alice, bob, charlie, wf):
    mine = ran(wf, 1, alice)
    other_wf = workflow(alice, adder_graph(), name="Private")
    hidden = ran(other_wf, 2, alice)
    WorkflowGrant.objects.create(workflow=wf, user=bob, role=Role.VIEWER)

    api.force_authenticate(bob)
    seen = api.get(compare_url(mine.pk, mine.pk))
    half = api.get(compare_url(mine.pk, hidden.pk))
    api.force_authenticate(charlie)
    none = api.get(compare_url(mine.pk, mine.pk))
    api.force_authenticate(None)
    anonymous = api.get(compare_url(mine.pk, mine.pk))

    assert seen.status_code == 200
    assert half.status_code == 404
    assert none.status_code == 404
    assert anonymous.status_code == 401


def test_runs_of_two_workflows_compare_too(api, alice, wf):
    other = workflow(alice, build({"start": ("trigger.manual",), "calc": noop()}, ["start>calc"]))
    one, two = ran(wf, 1, alice), ran(other, 1, alice)
    api.force_authenticate(alice)

    body = api.get(compare_url(one.pk, two.pk)).json()

    assert body["versions"]["same_workflow"] is False
    assert body["versions"]["nodes"]["removed"] == ["after"]
    assert by_node(body)["after"]["b"] is None


# --- Two attempts of one step -------------------------------------------------------------------


@pytest.fixture
def retried_run(alice):
    return flaky_run(alice)


def test_two_attempts_compare_what_each_kept(api, alice, retried_run):
    api.force_authenticate(alice)

    response = api.get(f"/api/runs/{retried_run.pk}/steps/call/compare/?a=1&b=2")

    assert response.status_code == 200
    body = response.json()
    assert (body["node"], body["attempts"]) == ("call", 2)
    first, second = body["a"], body["b"]
    assert (first["status"], second["status"]) == ("retrying", "succeeded")
    assert "failed on purpose" in first["error"]["message"]
    assert second["error"] is None
    assert first["started_at"] == "2026-03-01T10:00:00Z"
    assert second["started_at"] == "2026-03-01T10:01:00Z"
    # Only the last attempt keeps its input and output on the step row.
    assert (first["input_kept"], first["output_kept"]) == (False, False)
    assert (second["output_kept"], second["output"]) == (True, {"attempt": 2})
    assert first["log"][1] == "failing attempt 1 on purpose"
    assert "step.retrying" in first["events"] and "step.succeeded" in second["events"]
    assert body["changed"] == {
        "status": True,
        "error": True,
        "input": None,
        "output": None,
        "log": True,
    }


def test_an_operator_s_edited_input_is_kept_for_its_attempt(api, alice, wf):
    graph = build(
        {"start": ("trigger.manual",), "call": fn("flaky", fail_times=1, retryable=False)},
        ["start>call"],
    )
    run = start(workflow(alice, graph, name="Once"), actor=alice)
    drive()
    api.force_authenticate(alice)
    edited = {"function": "examples.flaky", "args": {"fail_times": 0}}
    assert (
        api.post(
            f"/api/runs/{run.pk}/steps/call/retry/", {"input": edited}, format="json"
        ).status_code
        == 200
    )
    drive()

    body = api.get(f"/api/runs/{run.pk}/steps/call/compare/?a=2&b=1").json()

    assert body["a"]["input"] == edited and body["a"]["input_kept"] is True
    assert (body["a"]["status"], body["b"]["status"]) == ("succeeded", "failed")


def test_attempts_the_step_has_not_had_are_404_and_bad_numbers_400(api, alice, retried_run):
    api.force_authenticate(alice)
    url = f"/api/runs/{retried_run.pk}/steps/call/compare/"

    assert api.get(f"{url}?a=1&b=3").status_code == 404
    assert api.get(f"/api/runs/{retried_run.pk}/steps/nope/compare/?a=1&b=2").status_code == 404
    bad = api.get(f"{url}?a=one&b=2")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "a"
    assert api.get(f"{url}?a=1").json()["errors"][0]["field"] == "b"


def test_attempts_follow_the_run_s_permissions(api, bob, charlie, retried_run):
    url = f"/api/runs/{retried_run.pk}/steps/call/compare/?a=1&b=2"
    WorkflowGrant.objects.create(workflow=retried_run.workflow, user=bob, role=Role.VIEWER)

    assert api.get(url).status_code == 401
    api.force_authenticate(charlie)
    assert api.get(url).status_code == 404
    api.force_authenticate(bob)
    assert api.get(url).status_code == 200
