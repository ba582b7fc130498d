"""logic.switch: leaves by the first case whose expression is true, else by ``default``."""

from tests.engine_kit import build, drive, fn, noop, start, statuses, steps, workflow


def test_a_switch_takes_the_first_matching_case_else_default(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "route": (
                "logic.switch",
                {
                    "cases": [
                        {"name": "small", "expression": "input.n < 10"},
                        {"name": "medium", "expression": "input.n < 100"},
                    ]
                },
            ),
            "s": noop(),
            "m": noop(),
            "d": noop(),
        },
        ["start>route", "route.small>s", "route.medium>m", "route.default>d"],
    )
    wf = workflow(alice, graph)
    runs = {n: start(wf, {"n": n}) for n in (5, 50, 500)}

    drive()

    assert {n: statuses(r) for n, r in runs.items()} == {
        5: {
            "start": "succeeded",
            "route": "succeeded",
            "s": "succeeded",
            "m": "skipped",
            "d": "skipped",
        },
        50: {
            "start": "succeeded",
            "route": "succeeded",
            "s": "skipped",
            "m": "succeeded",
            "d": "skipped",
        },
        500: {
            "start": "succeeded",
            "route": "succeeded",
            "s": "skipped",
            "m": "skipped",
            "d": "succeeded",
        },
    }
    assert steps(runs[50])["route"].output == {"case": "medium"}


def test_a_case_reads_the_outputs_of_earlier_steps(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a="{{ input.x }}", b=1),
            "route": (
                "logic.switch",
                {"cases": [{"name": "even", "expression": "steps.add.output % 2 == 0"}]},
            ),
            "e": noop(),
            "o": noop(),
        },
        ["start>add", "add>route", "route.even>e", "route.default>o"],
    )
    wf = workflow(alice, graph)
    odd_sum, even_sum = start(wf, {"x": 2}), start(wf, {"x": 3})

    drive()

    assert steps(even_sum)["route"].output == {"case": "even"}
    assert (statuses(even_sum)["e"], statuses(even_sum)["o"]) == ("succeeded", "skipped")
    assert steps(odd_sum)["route"].output == {"case": "default"}
    assert (statuses(odd_sum)["e"], statuses(odd_sum)["o"]) == ("skipped", "succeeded")


def test_no_matching_case_and_no_default_edge_ends_that_branch_and_the_run_succeeds(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "route": ("logic.switch", {"cases": [{"name": "vip", "expression": "input.vip"}]}),
            "greet": noop(),
        },
        ["start>route", "route.vip>greet"],
    )
    run = start(workflow(alice, graph), {"vip": False})

    drive()

    run.refresh_from_db()
    route = steps(run)["route"]
    assert (route.status, route.handle, route.output) == (
        "succeeded",
        "default",
        {"case": "default"},
    )
    assert statuses(run)["greet"] == "skipped"
    assert run.status == "succeeded"


def test_a_case_that_cannot_be_evaluated_fails_the_switch_naming_the_case(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "route": (
                "logic.switch",
                {
                    "cases": [
                        {"name": "tiny", "expression": "input.n < 1"},
                        {"name": "broken", "expression": "input.n > input.limit"},
                    ]
                },
            ),
            "t": noop(),
            "b": noop(),
            "d": noop(),
        },
        ["start>route", "route.tiny>t", "route.broken>b", "route.default>d"],
    )
    run = start(workflow(alice, graph), {"n": 5, "limit": "ten"})

    drive()

    run.refresh_from_db()
    route = steps(run)["route"]
    assert route.status == "failed"
    assert route.error["code"] == "expression_error"
    assert route.error["field"] == "config.cases.1.expression"
    assert {statuses(run)[n] for n in ("t", "b", "d")} == {"skipped"}
    assert run.status == "failed"
