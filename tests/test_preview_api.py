"""POST /api/workflows/{id}/preview/: an expression's or a template's value with a run's data,
as the designer shows it under an expression field (issue 18, "expressions with real data").
Runs are driven in-process; the permission matrix (tests/matrix_kit.py) covers the roles."""

import pytest

from tests.engine_kit import build, drive, fn, start, workflow


@pytest.fixture
def wf(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "total": ("data.transform", {"value": {"sum": "{{ input.a + input.b }}"}}),
            "broken": fn("flaky", fail_times=5, retryable=False),
        },
        ["start>total", "total>broken"],
    )
    return workflow(alice, graph, name="sums")


def preview(api, wf, **body):
    return api.post(f"/api/workflows/{wf.pk}/preview/", body, format="json")


def test_an_expression_is_evaluated_with_the_newest_runs_data(api, alice, wf):
    start(wf, {"a": 1, "b": 2}, actor=alice)
    newest = start(wf, {"a": 20, "b": 22}, actor=alice)
    drive()
    api.force_authenticate(alice)

    answer = preview(api, wf, source="steps.total.output.sum * 2", mode="expression")

    assert answer.status_code == 200, answer.content
    assert answer.data["value"] == 84
    assert answer.data["error"] is None
    assert answer.data["run"]["id"] == newest.pk
    assert answer.data["run"]["status"] == "failed"  # "broken" failed: its data is there too
    again = preview(api, wf, source="steps.broken.status ~ ' ' ~ run.id", mode="expression")
    assert again.data["value"] == f"failed {newest.pk}"


def test_a_template_renders_and_one_placeholder_keeps_its_type(api, alice, wf):
    run = start(wf, {"a": 1, "b": 2}, actor=alice)
    drive()
    api.force_authenticate(alice)

    text = preview(api, wf, source="Total {{ steps.total.output.sum }} for run {{ run.id }}")
    assert text.data["value"] == f"Total 3 for run {run.pk}"
    assert preview(api, wf, source="{{ input }}").data["value"] == {"a": 1, "b": 2}
    assert preview(api, wf, source="no placeholder").data["value"] == "no placeholder"


def test_a_named_run_is_used_instead_of_the_newest(api, alice, wf):
    first = start(wf, {"a": 1, "b": 2}, actor=alice)
    start(wf, {"a": 5, "b": 5}, actor=alice)
    drive()
    api.force_authenticate(alice)

    answer = preview(api, wf, source="input.a", mode="expression", run=first.pk)

    assert (answer.data["value"], answer.data["run"]["id"]) == (1, first.pk)


def test_what_the_step_would_fail_with_is_the_answers_error(api, alice, wf):
    start(wf, {"a": 1, "b": 2}, actor=alice)
    drive()
    api.force_authenticate(alice)

    unknown = preview(api, wf, source="steps.nope.output", mode="expression")
    assert unknown.status_code == 200
    assert unknown.data["value"] is None
    assert unknown.data["error"]["code"] == "expression_error"
    assert "nope" in unknown.data["error"]["message"]

    broken = preview(api, wf, source="{{ input.a +", mode="template")
    assert broken.data["error"]["code"] == "expression_error"

    # The sandbox's limits hold here as in a run.
    huge = preview(api, wf, source="'x' * 30000000", mode="expression")
    assert huge.data["error"]["code"] == "expression_limit"
    unsafe = preview(api, wf, source="input.__class__.__mro__", mode="expression")
    assert unsafe.data["value"] is None and unsafe.data["error"] is not None


def test_a_value_too_big_to_show_says_so_instead(api, alice, wf):
    start(wf, {"a": 1, "b": 2}, actor=alice)
    drive()
    api.force_authenticate(alice)

    shown = preview(api, wf, source="'x' * 65534", mode="expression")  # 65,536 with its quotes
    big = preview(api, wf, source="'x' * 65535", mode="expression")

    assert shown.data["value"] == "x" * 65534
    assert big.data["value"] is None
    assert big.data["error"]["code"] == "too_large"
    assert "65,537 characters" in big.data["error"]["message"]


def test_a_workflow_never_run_answers_without_a_run(api, alice, wf):
    api.force_authenticate(alice)

    answer = preview(api, wf, source="input.a", mode="expression")

    assert answer.status_code == 200
    assert answer.data == {"run": None, "pinned": [], "value": None, "error": None}


def test_a_run_of_another_workflow_is_not_found(api, alice, wf):
    other = workflow(alice, build({"start": ("trigger.manual",)}, []), name="other")
    foreign = start(other, {"a": 9}, actor=alice)
    drive()
    api.force_authenticate(alice)

    answer = preview(api, wf, source="input.a", mode="expression", run=foreign.pk)

    assert answer.status_code == 404
    assert answer.data["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "source"),
        ({"source": "input", "mode": "python"}, "mode"),
        ({"source": "input", "run": 0}, "run"),
        ({"source": "x" * 20_001}, "source"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(api, alice, wf, body, field):
    api.force_authenticate(alice)

    answer = preview(api, wf, **body)

    assert answer.status_code == 400
    assert [e["field"] for e in answer.data["errors"]] == [field]


def test_someone_without_a_role_cannot_learn_the_workflow_exists(api, alice, charlie, wf):
    start(wf, {"a": 1, "b": 2}, actor=alice)
    drive()
    api.force_authenticate(charlie)

    assert preview(api, wf, source="input", mode="expression").status_code == 404
