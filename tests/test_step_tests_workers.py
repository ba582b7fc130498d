"""Step tests on real worker processes (issue 18): ``POST .../tests/run/`` starts each case's
test run, the django-q2 workers run it, and the request answers once they have ended."""

import pytest

from engine.models import Run
from tests.engine_kit import build, fn, workflow

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_passing_and_a_failing_case_run_on_the_workers(workers, api, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "fetch": fn("noop"),
            "shape": ("data.transform", {"value": {"total": "{{ steps.fetch.output.a + 1 }}"}}),
        },
        ["start>fetch", "fetch>shape"],
    )
    wf = workflow(alice, graph)
    api.force_authenticate(alice)
    for name, expected in (("adds one", 42), ("adds two", 43)):
        created = api.post(
            f"/api/workflows/{wf.pk}/tests/",
            {
                "name": name,
                "node": "shape",
                "data": {"fetch": {"a": 41}},
                "expect": [
                    {"kind": "schema", "schema": {"required": ["total"]}},
                    {"kind": "equals", "value": {"total": expected}},
                ],
            },
            format="json",
        )
        assert created.status_code == 201, created.json()

    response = api.post(f"/api/workflows/{wf.pk}/tests/run/", {}, format="json")

    assert response.status_code == 200, response.json()
    results = {r["name"]: r for r in response.json()["results"]}
    assert results["adds one"]["passed"], (results, workers.log())
    assert [f["kind"] for f in results["adds two"]["failures"]] == ["equals"]
    run = Run.objects.get(pk=results["adds one"]["run"])
    assert run.status == "succeeded" and run.test
    assert results["adds one"]["duration_ms"] >= 0
