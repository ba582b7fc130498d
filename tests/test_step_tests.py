"""Step tests (issue 18): named cases of a step with expectations about its output, run
together through the API, the CLI and the save gate.

The attempts are executed in the test's process: ``engine.steptests.pause`` (what the waiting
does between two looks at the runs) is replaced by ``drive``. tests/test_step_tests_workers.py
runs a case through real worker processes."""

import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command

from designer.models import StepTest
from engine.models import Run
from engine.steptests import expectation_errors, failures_of, run_step_tests
from tests.engine_kit import build, drive, fn, workflow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _drive_instead_of_waiting(monkeypatch):
    """No worker processes here: each look at the unfinished runs executes their attempts."""
    monkeypatch.setattr("engine.steptests.pause", drive)


def total_graph(plus: int = 1) -> dict:
    """start > fetch > shape: ``shape`` is {"total": fetch's a + plus}."""
    return build(
        {
            "start": ("trigger.manual",),
            "fetch": fn("noop"),
            "shape": (
                "data.transform",
                {"value": {"total": f"{{{{ steps.fetch.output.a + {plus} }}}}"}},
            ),
        },
        ["start>fetch", "fetch>shape"],
    )


EQUALS_42 = {
    "name": "adds one",
    "node": "shape",
    "data": {"fetch": {"a": 41}},
    "expect": [{"kind": "equals", "value": {"total": 42}}],
}
IS_BIG = {
    "name": "is big",
    "node": "shape",
    "data": {"fetch": {"a": 1}},
    "expect": [{"kind": "expression", "expression": "output.total > 100"}],
}


def add_test(api, wf, body):
    response = api.post(f"/api/workflows/{wf.pk}/tests/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def run_tests(api, wf, **body):
    response = api.post(f"/api/workflows/{wf.pk}/tests/run/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


# --- Expectations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expectation", "output", "broken"),
    [
        ({"kind": "equals", "value": {"a": [1, 2]}}, {"a": [1, 2]}, False),
        ({"kind": "equals", "value": {"a": [1, 2]}}, {"a": [2, 1]}, True),
        ({"kind": "equals", "value": 1}, True, True),
        ({"kind": "schema", "schema": {"type": "object", "required": ["id"]}}, {"id": 3}, False),
        ({"kind": "schema", "schema": {"type": "object", "required": ["id"]}}, {"no": 3}, True),
        ({"kind": "expression", "expression": "output.n == input.n + 1"}, {"n": 2}, False),
        ({"kind": "expression", "expression": "output.n == input.n + 1"}, {"n": 5}, True),
        ({"kind": "expression", "expression": "steps.fetch.output.ok"}, {}, False),
        ({"kind": "expression", "expression": "output.missing > 1"}, {}, True),
    ],
)
def test_an_expectation_passes_or_names_what_it_found(expectation, output, broken):
    scope = {"input": {"n": 1}, "steps": {"fetch": {"output": {"ok": True}, "status": "x"}}}

    found = failures_of([expectation], output, scope)

    assert bool(found) is broken
    assert all(f["kind"] == expectation["kind"] and f["message"] for f in found)


def test_failure_messages_say_what_was_expected_and_what_came():
    [equals] = failures_of([{"kind": "equals", "value": {"total": 42}}], {"total": 2}, {})
    [schema] = failures_of(
        [{"kind": "schema", "schema": {"properties": {"id": {"type": "integer"}}}}],
        {"id": "x"},
        {},
    )
    [expression] = failures_of([{"kind": "expression", "expression": "output > 3"}], 2, {})

    assert equals["message"] == 'the output is {"total": 2}, expected {"total": 42}'
    assert schema["message"] == "output.id: 'x' is not of type 'integer'"
    assert expression["message"] == "'output > 3' is false, not true"


def test_bad_expectations_are_named_by_their_field():
    errors = expectation_errors(
        [
            {"kind": "equals", "value": None},
            {"kind": "schema", "schema": {"type": "nonsense"}},
            {"kind": "expression", "expression": "output.total >"},
            {"kind": "expression", "expression": "run.id > 1"},
            {"kind": "expression", "expression": "output.__class__"},
            {"kind": "regex", "value": "x"},
            {"kind": "equals"},
        ]
    )

    assert [(e["field"], e["code"]) for e in errors] == [
        ("expect.1.schema", "invalid_schema"),
        ("expect.2.expression", "expression_syntax"),
        ("expect.3.expression", "unknown_name"),
        ("expect.4.expression", "forbidden_attribute"),
        ("expect.5.kind", "invalid_choice"),
        ("expect.6.value", "required"),
    ]


# --- The API ------------------------------------------------------------------------------------


def test_an_editor_saves_lists_changes_and_deletes_a_test(api, alice):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)

    created = add_test(api, wf, EQUALS_42)
    listed = api.get(f"/api/workflows/{wf.pk}/tests/").json()
    url = f"/api/workflows/{wf.pk}/tests/{created['id']}/"
    changed = api.put(url, {**EQUALS_42, "name": "adds 1", "input": {"n": 1}}, format="json")
    twice = api.post(f"/api/workflows/{wf.pk}/tests/", {**IS_BIG, "name": "adds 1"}, format="json")
    deleted = api.delete(url)

    assert created["created_by"] == "alice" and created["confirm_effects"] is False
    assert [t["name"] for t in listed] == ["adds one"]
    assert listed[0]["data"] == {"fetch": {"a": 41}} and listed[0]["input"] is None
    assert changed.status_code == 200 and changed.json()["input"] == {"n": 1}
    assert twice.status_code == 400 and twice.json()["errors"][0]["field"] == "name"
    assert deleted.status_code == 204 and not StepTest.objects.exists()


@pytest.mark.parametrize(
    ("expectation", "field", "code"),
    [
        ({"kind": "schema", "schema": {"type": 12}}, "expect.0.schema", "invalid_schema"),
        (
            {"kind": "expression", "expression": "output.total ))"},
            "expect.0.expression",
            "expression_syntax",
        ),
    ],
)
def test_an_invalid_schema_or_expression_gets_400_naming_the_field(
    api, alice, expectation, field, code
):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)

    response = api.post(
        f"/api/workflows/{wf.pk}/tests/", {**EQUALS_42, "expect": [expectation]}, format="json"
    )

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert not StepTest.objects.exists()


def test_running_the_tests_gives_a_pass_and_a_fail_with_its_reason(api, alice):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)
    add_test(api, wf, EQUALS_42)
    add_test(api, wf, IS_BIG)

    body = run_tests(api, wf)

    assert body["passed"] is False
    passing, failing = sorted(body["results"], key=lambda r: r["name"])
    assert passing | {"run": 0, "duration_ms": 0} == {
        "name": "adds one",
        "node": "shape",
        "passed": True,
        "failures": [],
        "run": 0,
        "duration_ms": 0,
    }
    assert failing["name"] == "is big" and failing["passed"] is False
    assert failing["failures"] == [
        {"kind": "expression", "message": "'output.total > 100' is false, not true"}
    ]
    # Each case is a test run: left out of the runs list, there to look at.
    assert Run.objects.get(pk=failing["run"]).test
    assert run_tests(api, wf, names=["adds one"])["passed"] is True


def test_a_draft_is_tested_as_sent_and_a_version_as_saved(api, alice):
    wf = workflow(alice, total_graph(plus=1))
    api.force_authenticate(alice)
    add_test(api, wf, EQUALS_42)

    draft = run_tests(api, wf, graph=total_graph(plus=2))
    saved = run_tests(api, wf, version=1)
    unknown = api.post(f"/api/workflows/{wf.pk}/tests/run/", {"version": 9}, format="json")

    assert draft["passed"] is False and saved["passed"] is True
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "version"


def test_a_case_takes_only_its_own_data_never_the_pins(api, alice):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)
    api.put(f"/api/workflows/{wf.pk}/pins/fetch/", {"output": {"a": 1000}}, format="json")
    add_test(api, wf, EQUALS_42)
    # Without data for fetch, fetch runs (noop: null), and null + 1 fails the step.
    add_test(api, wf, {**EQUALS_42, "name": "no data", "data": {}})

    results = {r["name"]: r for r in run_tests(api, wf)["results"]}

    assert results["adds one"]["passed"]
    assert results["no data"]["failures"][0]["kind"] == "step"
    assert results["no data"]["failures"][0]["message"].startswith("the step failed: ")


def test_a_case_that_would_write_outside_fails_unless_it_confirms(api, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "pay": ("http.request", {"method": "POST", "url": "http://127.0.0.1:9/pay"}),
        },
        ["start>pay"],
    )
    wf = workflow(alice, graph)
    api.force_authenticate(alice)
    add_test(api, wf, {"name": "pays", "node": "pay", "expect": []})

    [result] = run_tests(api, wf)["results"]

    assert result["run"] is None and result["failures"][0]["kind"] == "start"
    assert "confirm_effects: true" in result["failures"][0]["message"]


def test_cases_still_going_at_the_deadline_fail_as_timed_out_and_are_cancelled(alice):
    wf = workflow(alice, total_graph())
    test = StepTest.objects.create(workflow=wf, **EQUALS_42)

    [result] = run_step_tests(
        actor=alice, workflow=wf, graph=total_graph(), tests=[test], timeout=0, settle=lambda: None
    )

    assert result["failures"][0]["kind"] == "timeout"
    assert Run.objects.get(pk=result["run"]).status == "cancelled"


# --- The save gate ------------------------------------------------------------------------------


def save(api, wf, graph):
    wf.refresh_from_db()
    return api.put(
        f"/api/workflows/{wf.pk}/",
        {"graph": graph, "base_version": wf.latest_version},
        format="json",
    )


def test_a_version_is_refused_while_a_required_test_fails_and_saved_once_it_passes(api, alice):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)
    add_test(api, wf, EQUALS_42)
    patched = api.patch(f"/api/workflows/{wf.pk}/", {"require_tests": True}, format="json")
    assert patched.status_code == 200 and patched.json()["require_tests"] is True

    refused = save(api, wf, total_graph(plus=2))
    accepted = save(api, wf, total_graph(plus=1))

    assert refused.status_code == 409
    body = refused.json()
    assert body["errors"][0]["code"] == "tests_failed"
    assert body["errors"][0]["node"] == "shape"
    assert "adds one" in body["errors"][0]["message"]
    assert body["results"][0]["failures"][0]["kind"] == "equals"
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["latest_version"] == 2  # the refused save wrote nothing


def test_without_the_setting_a_failing_test_does_not_stop_a_save(api, alice):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)
    add_test(api, wf, EQUALS_42)

    response = save(api, wf, total_graph(plus=2))

    assert response.status_code == 200 and response.json()["latest_version"] == 2
    assert not Run.objects.exists()  # the tests did not even run


# --- The CLI ------------------------------------------------------------------------------------


def test_the_cli_passes_quietly_and_writes_junit(alice, tmp_path, capsys):
    wf = workflow(alice, total_graph(), name="totals")
    StepTest.objects.create(workflow=wf, **EQUALS_42)
    junit = tmp_path / "steps.xml"

    call_command("flowdeck", "test", "totals", "--junit", str(junit))

    out = capsys.readouterr().out
    assert "PASS  adds one  (shape)" in out and "1 passed, 0 failed" in out
    suite = ET.parse(junit).getroot().find("testsuite")  # noqa: S314 (our own file)
    assert suite.attrib | {"time": "0"} == {
        "name": "totals",
        "tests": "1",
        "failures": "0",
        "errors": "0",
        "time": "0",
    }
    [case] = suite.findall("testcase")
    assert (case.get("name"), case.get("classname")) == ("adds one", "shape")
    assert case.find("failure") is None and float(case.get("time")) >= 0


def test_the_cli_exits_1_on_a_failure_and_the_junit_file_says_why(alice, tmp_path, capsys):
    wf = workflow(alice, total_graph(), name="totals")
    StepTest.objects.create(workflow=wf, **EQUALS_42)
    StepTest.objects.create(workflow=wf, **IS_BIG)
    junit = tmp_path / "steps.xml"

    with pytest.raises(CommandError) as failed:
        call_command("flowdeck", "test", str(wf.pk), "--version", "1", "--junit", str(junit))

    assert failed.value.returncode == 1
    assert "1 passed, 1 failed" in str(failed.value)
    assert "FAIL  is big  (shape)" in capsys.readouterr().out
    suite = ET.parse(junit).getroot().find("testsuite")  # noqa: S314 (our own file)
    assert suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failure = cases["is big"].find("failure")
    assert failure.get("type") == "expression" and "not true" in failure.get("message")
    assert cases["adds one"].find("failure") is None


def test_the_cli_exits_2_for_a_workflow_or_version_it_cannot_find(alice):
    workflow(alice, total_graph(), name="totals")

    with pytest.raises(CommandError) as missing:
        call_command("flowdeck", "test", "nothing like it")
    with pytest.raises(CommandError) as no_version:
        call_command("flowdeck", "test", "totals", "--version", "7")

    assert missing.value.returncode == 2 and no_version.value.returncode == 2


def test_an_invalid_draft_gets_400_with_its_errors_not_a_failing_test_each(api, alice):
    wf = workflow(alice, total_graph())
    api.force_authenticate(alice)
    add_test(api, wf, EQUALS_42)

    response = api.post(f"/api/workflows/{wf.pk}/tests/run/", {"graph": []}, format="json")

    assert response.status_code == 400 and response.json()["errors"]
    assert not Run.objects.exists()
