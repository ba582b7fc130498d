"""Step logs through real worker processes (``manage.py flowdeck_worker``): a function that
logs, fails once and succeeds on its retry leaves both attempts' lines, each under its attempt
number, readable through the API."""

import pytest

from tests.engine_kit import build, fn, start, workflow
from tests.test_engine_workers import ended

pytestmark = pytest.mark.django_db(transaction=True)


def test_both_attempts_lines_are_kept_with_their_attempt_numbers(workers, alice, api):
    retry = {"max_attempts": 2, "backoff_s": 0.2, "jitter": False}
    graph = build(
        {"start": ("trigger.manual",), "charge": {**fn("flaky", fail_times=1), "retry": retry}},
        ["start>charge"],
    )
    run = ended(start(workflow(alice, graph), actor=alice))
    assert run.status == "succeeded", workers.log()

    api.force_authenticate(alice)
    body = api.get(f"/api/runs/{run.pk}/steps/charge/logs/").json()

    assert body["attempt"] == 2
    assert [
        (a["attempt"], [(line["level"], line["message"]) for line in a["lines"]])
        for a in body["attempts"]
    ] == [
        (
            1,
            [("debug", "attempt 1; the first 1 fail"), ("warning", "failing attempt 1 on purpose")],
        ),
        (2, [("debug", "attempt 2; the first 1 fail"), ("info", "attempt 2 succeeded")]),
    ]
    first, second = body["attempts"]
    assert first["lines"][-1]["t"] < second["lines"][0]["t"]
