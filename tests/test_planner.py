"""The planner (engine/planner.py) and the status tables (engine/states.py): pure, no database."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.planner import (
    DEAD,
    OPEN,
    TAKEN,
    Plan,
    PlanGraph,
    StepState,
    edge_state,
    plan,
    plan_after,
    plan_compensation,
    walk,
)
from engine.states import (
    RUN_ALLOWED,
    STEP_ALLOWED,
    STEP_TERMINAL,
    TASK_ALLOWED,
    RunStatus,
    StepStatus,
    TaskStatus,
    TransitionNotAllowed,
    check_run_move,
    check_step_move,
    check_task_move,
)

S = StepStatus


def graph(nodes: dict[str, str], edges: list[tuple], joins: dict[str, str] | None = None):
    """nodes: id -> type; edges: (source, target) or (source, handle, target)."""
    joins = joins or {}
    return PlanGraph.from_graph(
        {
            "nodes": [
                {"id": n, "type": t, **({"join": joins[n]} if n in joins else {})}
                for n, t in nodes.items()
            ],
            "edges": [
                {
                    "id": f"e{i}",
                    "source": e[0],
                    "target": e[-1],
                    **({"source_handle": e[1]} if len(e) == 3 else {}),
                }
                for i, e in enumerate(edges)
            ],
        }
    )


def ok(handle: str | None = None) -> StepState:
    return StepState(S.SUCCEEDED, handle)


FAILED, RUNNING = StepState(S.FAILED), StepState(S.RUNNING)
T, X = "trigger.manual", "data.transform"


# --- the status tables -------------------------------------------------------------------------
def test_every_pair_of_statuses_is_allowed_exactly_when_the_tables_say():
    for old, new in itertools.product(StepStatus, StepStatus):
        if new in STEP_ALLOWED[old]:
            check_step_move(old, new)
        else:
            with pytest.raises(TransitionNotAllowed):
                check_step_move(old, new)
    for old, new in itertools.product(RunStatus, RunStatus):
        if new in RUN_ALLOWED[old]:
            check_run_move(old, new)
        else:
            with pytest.raises(TransitionNotAllowed):
                check_run_move(old, new)
    for old, new in itertools.product(TaskStatus, TaskStatus):
        if new in TASK_ALLOWED[old]:
            check_task_move(old, new)
        else:
            with pytest.raises(TransitionNotAllowed):
                check_task_move(old, new)


def test_terminal_step_statuses_lead_nowhere_but_an_operators_retry_or_skip():
    assert STEP_ALLOWED[S.SUCCEEDED] == set()
    assert STEP_ALLOWED[S.FAILED] == {S.QUEUED, S.SKIPPED}
    # Below an operator's retry or skip, skipped and cancelled steps are reset to pending.
    assert STEP_ALLOWED[S.SKIPPED] == STEP_ALLOWED[S.CANCELLED] == {S.PENDING}
    # Only an operator's retry or skip reopens a failed run; the others are final.
    assert RUN_ALLOWED[RunStatus.FAILED] == {RunStatus.RUNNING}
    assert RUN_ALLOWED[RunStatus.SUCCEEDED] == RUN_ALLOWED[RunStatus.CANCELLED] == set()
    # Compensating is not an end: it ends failed (every compensation done) or cancelled.
    assert RUN_ALLOWED[RunStatus.COMPENSATING] == {RunStatus.FAILED, RunStatus.CANCELLED}
    assert RunStatus.COMPENSATING in RUN_ALLOWED[RunStatus.RUNNING]
    assert RunStatus.COMPENSATING in RUN_ALLOWED[RunStatus.WAITING]
    assert all(STEP_ALLOWED[s] or s in STEP_TERMINAL for s in StepStatus)


def test_a_task_closes_once_whichever_way_and_never_reopens():
    assert TASK_ALLOWED[TaskStatus.OPEN] == set(TaskStatus) - {TaskStatus.OPEN}
    assert all(TASK_ALLOWED[s] == set() for s in TaskStatus if s != TaskStatus.OPEN)


# --- edges ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "chosen", "edge", "expected"),
    [
        (S.SUCCEEDED, None, "out", TAKEN),
        (S.SUCCEEDED, "true", "true", TAKEN),
        (S.SUCCEEDED, "true", "false", DEAD),
        (S.SUCCEEDED, None, "error", DEAD),
        (S.FAILED, None, "error", TAKEN),
        (S.FAILED, None, "out", DEAD),
        (S.SKIPPED, None, "out", DEAD),
        (S.CANCELLED, None, "error", DEAD),
        (S.RUNNING, None, "out", OPEN),
        (S.PENDING, None, "out", OPEN),
        (S.WAITING, None, "approved", OPEN),
    ],
)
def test_an_edge_is_taken_dead_or_open_by_its_source(status, chosen, edge, expected):
    assert edge_state(status, chosen, edge) == expected


# --- linear runs and branches ------------------------------------------------------------------
def test_a_new_run_starts_its_trigger_only():
    g = graph({"start": T, "a": X, "b": X}, [("start", "a"), ("a", "b")])
    assert plan(g, {}) == Plan(start=("start",))


def test_a_finished_step_starts_the_next_and_the_last_one_finishes_the_run():
    g = graph({"start": T, "a": X}, [("start", "a")])
    assert plan(g, {"start": ok()}) == Plan(start=("a",))
    assert plan(g, {"start": ok(), "a": RUNNING}) == Plan()
    assert plan(g, {"start": ok(), "a": ok()}) == Plan(finish=RunStatus.SUCCEEDED)


def test_a_condition_takes_one_branch_and_skips_the_other_and_everything_after_it():
    g = graph(
        {"start": T, "check": "logic.condition", "yes": X, "no": X, "after_no": X},
        [
            ("start", "check"),
            ("check", "true", "yes"),
            ("check", "false", "no"),
            ("no", "after_no"),
        ],
    )
    result = plan(g, {"start": ok(), "check": ok("true")})
    assert result == Plan(start=("yes",), skip=("no", "after_no"))


def test_a_switch_leaves_by_the_chosen_case():
    g = graph(
        {"start": T, "route": "logic.switch", "eu": X, "us": X, "other": X},
        [
            ("start", "route"),
            ("route", "eu", "eu"),
            ("route", "us", "us"),
            ("route", "default", "other"),
        ],
    )
    assert plan(g, {"start": ok(), "route": ok("default")}) == Plan(
        start=("other",), skip=("eu", "us")
    )


# --- joins ----------------------------------------------------------------------------------------
DIAMOND = {"start": T, "left": "logic.condition", "right": X, "join": X}
DIAMOND_EDGES = [("start", "left"), ("start", "right"), ("left", "true", "join"), ("right", "join")]


def diamond(join: str) -> PlanGraph:
    return graph(DIAMOND, DIAMOND_EDGES, {"join": join})


@pytest.mark.parametrize(
    ("join", "left", "right", "expected"),
    [
        ("all_success", ok("true"), RUNNING, Plan()),
        ("all_success", ok("true"), ok(), Plan(start=("join",))),
        ("all_success", ok("false"), RUNNING, Plan(skip=("join",))),
        ("one_success", ok("true"), RUNNING, Plan(start=("join",))),
        ("one_success", ok("false"), RUNNING, Plan()),
        (
            "one_success",
            ok("false"),
            StepState(S.SKIPPED),
            Plan(skip=("join",), finish=RunStatus.SUCCEEDED),
        ),
        ("none_failed", ok("false"), RUNNING, Plan()),
        ("none_failed", ok("false"), ok(), Plan(start=("join",))),
        (
            "none_failed",
            ok("false"),
            FAILED,
            Plan(skip=("join",), finish=RunStatus.FAILED, reason="step 'right' failed"),
        ),
        ("all_done", ok("false"), FAILED, Plan(start=("join",))),
        ("all_done", ok("true"), RUNNING, Plan()),
    ],
)
def test_each_join_fires_waits_or_skips_as_the_contract_says(join, left, right, expected):
    assert plan(diamond(join), {"start": ok(), "left": left, "right": right}) == expected


def test_a_join_that_fired_does_not_fire_again():
    g = diamond("one_success")
    states = {"start": ok(), "left": ok("true"), "right": RUNNING, "join": RUNNING}
    assert plan(g, states) == Plan()
    states["right"] = ok()
    assert plan(g, states) == Plan()


# --- failures -------------------------------------------------------------------------------------
def test_an_error_edge_handles_a_failure_and_the_run_can_succeed():
    g = graph(
        {"start": T, "call": "http.request", "next": X, "recover": X},
        [("start", "call"), ("call", "next"), ("call", "error", "recover")],
    )
    assert plan(g, {"start": ok(), "call": FAILED}) == Plan(start=("recover",), skip=("next",))
    done = {"start": ok(), "call": FAILED, "next": StepState(S.SKIPPED), "recover": ok()}
    assert plan(g, done) == Plan(finish=RunStatus.SUCCEEDED)


def test_an_unhandled_failure_lets_other_branches_finish_then_fails_the_run():
    g = graph(
        {"start": T, "a": X, "b": X, "after_a": X, "cleanup": X},
        [("start", "a"), ("start", "b"), ("a", "after_a"), ("a", "cleanup"), ("b", "cleanup")],
        {"cleanup": "all_done"},
    )
    states = {"start": ok(), "a": FAILED, "b": RUNNING}
    assert plan(g, states) == Plan(skip=("after_a",))
    states.update(b=ok(), after_a=StepState(S.SKIPPED))
    assert plan(g, states) == Plan(start=("cleanup",))
    states["cleanup"] = ok()
    assert plan(g, states) == Plan(finish=RunStatus.FAILED, reason="step 'a' failed")


def test_flow_fail_ends_the_run_at_once():
    g = graph(
        {"start": T, "stop": "flow.fail", "slow": X, "later": X},
        [("start", "stop"), ("start", "slow"), ("slow", "later")],
    )
    states = {"start": ok(), "stop": FAILED, "slow": RUNNING}
    assert plan(g, states) == Plan(
        cancel=("slow",), skip=("later",), finish=RunStatus.FAILED, reason="'stop' ended the run"
    )


def test_retrying_and_waiting_steps_keep_the_run_open():
    g = graph({"start": T, "a": X}, [("start", "a")])
    for status in (S.RETRYING, S.WAITING, S.QUEUED):
        assert plan(g, {"start": ok(), "a": StepState(status)}) == Plan()


def test_an_operator_retry_of_a_failed_step_reopens_the_run():
    g = graph({"start": T, "a": X, "b": X}, [("start", "a"), ("a", "b")])
    assert plan(g, {"start": ok(), "a": FAILED}).finish == RunStatus.FAILED
    assert plan(g, {"start": ok(), "a": StepState(S.QUEUED)}) == Plan()


def test_a_cycle_is_refused_when_preparing_the_graph():
    with pytest.raises(ValueError, match="cycle"):
        graph({"start": T, "a": X, "b": X}, [("start", "a"), ("a", "b"), ("b", "a")])


# --- properties ---------------------------------------------------------------------------------
TYPES = {"data.transform": ("out",), "logic.condition": ("true", "false"), "flow.fail": ()}
JOINS = ("all_success", "one_success", "none_failed", "all_done")


@st.composite
def random_runs(draw):
    """A random DAG (node 0 the trigger, every other node reachable) and a random script of
    outcomes and completion orders."""
    n = draw(st.integers(min_value=2, max_value=14))
    types = ["trigger.manual"] + [
        draw(st.sampled_from(["data.transform"] * 4 + ["logic.condition"] * 2 + ["flow.fail"]))
        for _ in range(n - 1)
    ]
    handles = {i: TYPES.get(types[i], ("out",)) + ("error",) for i in range(n)}
    edges = set()
    for target in range(1, n):
        sources = draw(st.lists(st.integers(0, target - 1), min_size=1, max_size=3, unique=True))
        for source in sources:
            if types[source] == "flow.fail":
                continue
            edges.add((source, draw(st.sampled_from(handles[source])), target))
        if not any(e[2] == target for e in edges):
            edges.add((0, "out", target))
    joins = {i: draw(st.sampled_from(JOINS)) for i in range(1, n)}
    seed = draw(st.randoms(use_true_random=False))
    return types, sorted(edges), joins, seed


def build(types, edges, joins) -> PlanGraph:
    return PlanGraph.from_graph(
        {
            "nodes": [
                {"id": f"n{i}", "type": t, **({"join": joins[i]} if i in joins else {})}
                for i, t in enumerate(types)
            ],
            "edges": [
                {"id": f"e{k}", "source": f"n{s}", "target": f"n{t}", "source_handle": h}
                for k, (s, h, t) in enumerate(edges)
            ],
        }
    )


def oracle_may_fire(g: PlanGraph, node: str, states: dict) -> bool:
    """Independent restatement of the join rules, for checking each start."""
    if not g.incoming[node]:
        return True
    outcomes = []
    for source, handle in g.incoming[node]:
        state = states.get(source, StepState(S.PENDING))
        outcomes.append(edge_state(state.status, state.handle, handle))
    join = g.joins[node]
    if join == "all_success":
        return all(o == TAKEN for o in outcomes)
    if join == "one_success":
        return TAKEN in outcomes
    if OPEN in outcomes:
        return False
    if join == "all_done":
        return True
    return TAKEN in outcomes and not any(
        states[s].status == S.FAILED and s not in g.handles_failure for s, _ in g.incoming[node]
    )


@settings(max_examples=300, deadline=None)
@given(random_runs())
def test_random_runs_end_with_every_node_terminal_and_no_node_started_twice(run):
    types, edges, joins, rng = run
    g = build(types, edges, joins)
    states: dict[str, StepState] = {}
    started: list[str] = []
    active: list[str] = []
    finish = None
    for _ in range(10 * len(types)):
        result = plan(g, states)
        # Skips first: a node started by this plan may fire because of one skipped in it.
        for node in result.skip:
            assert states.get(node, StepState(S.PENDING)).status == S.PENDING
            states[node] = StepState(S.SKIPPED)
        for node in result.start:
            assert node not in started, f"{node} started twice"
            assert oracle_may_fire(g, node, states), f"{node} started against its join"
            started.append(node)
            states[node] = StepState(S.QUEUED)
            active.append(node)
        for node in result.cancel:
            states[node] = StepState(S.CANCELLED)
            active.remove(node)
        if result.finish is not None:
            finish = result
            break
        assert active, "the planner neither started, finished, nor has anything running"
        # Some of the running steps finish, in a random order and with random outcomes.
        for node in rng.sample(active, rng.randint(1, len(active))):
            active.remove(node)
            node_type = g.types[node]
            if node_type == "flow.fail" or rng.random() < 0.2:
                states[node] = StepState(S.FAILED)
            else:
                own = TYPES.get(node_type, ("out",))
                states[node] = StepState(S.SUCCEEDED, rng.choice(own) if own else None)
    assert finish is not None, "the run never finished"
    assert all(states.get(n, StepState(S.PENDING)).status in STEP_TERMINAL for n in g.order)
    # The outcome agrees with the steps: failed iff flow.fail ran or a failure went unhandled.
    failed = any(
        states[n].status == S.FAILED and (n in g.ends_run or n not in g.handles_failure)
        for n in g.order
    )
    assert (finish.finish == RunStatus.FAILED) == failed
    # Asking again after the end changes nothing.
    again = plan(g, states)
    assert not again.start and again.finish == finish.finish


@settings(max_examples=300, deadline=None)
@given(random_runs(), st.sampled_from([0, 2, 32]))
def test_planning_only_near_a_change_agrees_with_planning_everything(run, fetch_all_below):
    """plan_after (what the engine asks after each step) and plan (the reference) start and
    skip the same steps, one finished step at a time, with the fan-in shortcut on or off."""
    types, edges, joins, rng = run
    g = build(types, edges, joins)
    states: dict[str, StepState] = {}

    def lookup(nodes):
        return {n: states[n] for n in nodes if n in states}

    def any_open(nodes):
        return any(states.get(n, StepState(S.PENDING)).status not in STEP_TERMINAL for n in nodes)

    def apply(result):
        for node in result.skip:
            states[node] = StepState(S.SKIPPED)
        for node in result.start:
            states[node] = StepState(S.QUEUED)

    apply(plan(g, states))
    for _ in range(10 * len(types)):
        active = [n for n in g.order if states.get(n, StepState(S.PENDING)).status == S.QUEUED]
        if not active:
            break
        node = rng.choice(active)
        own = TYPES.get(g.types[node], ("out",))
        if g.types[node] == "flow.fail" or rng.random() < 0.2:
            states[node] = StepState(S.FAILED)
        else:
            states[node] = StepState(S.SUCCEEDED, rng.choice(own) if own else None)

        full = plan(g, states)
        near = plan_after(g, [node], lookup, any_open, fetch_all_below)

        if near is None:  # a flow.fail: only the whole graph can answer
            assert g.types[node] == "flow.fail"
            break
        assert set(near.start) == set(full.start)
        assert set(near.skip) == set(full.skip)
        apply(full)


def test_walk_finds_what_is_below_or_above_a_node_and_stops_where_told():
    pairs = ["s>a", "s>b", "a>c", "b>c", "c>d"]
    graph = {"edges": [dict(zip(("source", "target"), p.split(">"), strict=True)) for p in pairs]}

    assert sorted(walk(graph, "a")) == ["c", "d"]
    assert sorted(walk(graph, "c", up=True)) == ["a", "b", "s"]
    # Not through b: s is still reached through a.
    assert sorted(walk(graph, "c", up=True, where=lambda n: n != "b")) == ["a", "s"]
    assert walk(graph, "c", up=True, where=lambda n: n not in ("a", "b")) == []


# --- compensation (issue 20) ---------------------------------------------------------------------
C = "compensate"
SKIPPED, PENDING = StepState(S.SKIPPED), StepState(S.PENDING)


def chain_saga():
    """start > a > b > c, each of a, b, c undone by ua, ub, uc."""
    return graph(
        {"start": T, "a": X, "b": X, "c": X, "ua": X, "ub": X, "uc": X},
        [("start", "a"), ("a", "b"), ("b", "c"), ("a", C, "ua"), ("b", C, "ub"), ("c", C, "uc")],
    )


def test_compensation_nodes_are_left_out_of_the_normal_plan():
    g = chain_saga()
    assert plan(g, {}) == Plan(start=("start",))
    done = {n: ok() for n in ("start", "a", "b", "c")}
    assert plan(g, done) == Plan(skip=("ua", "ub", "uc"), finish=RunStatus.SUCCEEDED)
    assert walk({"edges": [{"source": "a", "source_handle": C, "target": "ua"}]}, "a") == []


def test_a_chain_failing_at_c_compensates_b_then_a():
    g = chain_saga()
    states = {"start": ok(), "a": ok(), "b": ok(), "c": FAILED}
    decided = plan(g, states)
    assert decided == Plan(
        skip=("uc",),
        finish=RunStatus.COMPENSATING,
        reason="step 'c' failed",
        compensate=("a", "b"),
    )
    states["uc"] = SKIPPED
    assert plan_compensation(g, states) == Plan(start=("ub",))
    states["ub"] = RUNNING
    assert plan_compensation(g, states) == Plan()
    states["ub"] = ok()
    assert plan_compensation(g, states) == Plan(start=("ua",))
    states["ua"] = ok()
    assert plan_compensation(g, states) == Plan(finish=RunStatus.FAILED, reason="compensated")


def test_parallel_branches_start_their_compensations_together():
    g = graph(
        {"start": T, "x": X, "y": X, "j": X, "fail": "flow.rollback", "ux": X, "uy": X, "uj": X},
        [
            ("start", "x"),
            ("start", "y"),
            ("x", "j"),
            ("y", "j"),
            ("j", "fail"),
            ("x", C, "ux"),
            ("y", C, "uy"),
            ("j", C, "uj"),
        ],
    )
    states = {"start": ok(), "x": ok(), "y": ok(), "j": ok(), "fail": FAILED}
    assert plan(g, states).compensate == ("x", "y", "j")
    assert plan_compensation(g, states) == Plan(start=("uj",))
    states["uj"] = ok()
    assert plan_compensation(g, states) == Plan(start=("ux", "uy"))


def test_a_step_without_compensation_is_passed_over_and_skipped_or_failed_steps_are_not_undone():
    g = graph(
        {"start": T, "a": X, "b": X, "side": X, "c": X, "ua": X, "uside": X, "uc": X},
        [
            ("start", "a"),
            ("a", "b"),
            ("b", "c"),
            ("start", "side"),
            ("a", C, "ua"),
            ("side", C, "uside"),
            ("c", C, "uc"),
        ],
    )
    # b has no compensation; side was skipped (an operator's skip), c failed: only a is undone.
    states = {"start": ok(), "a": ok(), "b": ok(), "side": SKIPPED, "c": FAILED}
    decided = plan(g, states)
    assert decided.finish == RunStatus.COMPENSATING and decided.compensate == ("a",)
    assert set(decided.skip) == {"uside", "uc"}
    assert plan_compensation(g, states | {"uside": SKIPPED, "uc": SKIPPED}) == Plan(start=("ua",))


def test_a_failed_compensation_blocks_those_above_it_until_retried_or_skipped():
    g = chain_saga()
    states = {"start": ok(), "a": ok(), "b": ok(), "c": FAILED, "uc": SKIPPED, "ub": FAILED}
    assert plan_compensation(g, states) == Plan()
    assert plan_compensation(g, states | {"ub": SKIPPED}) == Plan(start=("ua",))


def test_an_error_edge_of_a_compensation_handles_its_failure():
    g = graph(
        {"start": T, "a": X, "b": X, "ua": X, "ticket": X},
        [("start", "a"), ("a", "b"), ("a", C, "ua"), ("ua", "error", "ticket")],
    )
    states = {"start": ok(), "a": ok(), "b": FAILED}
    assert plan(g, states).compensate == ("a",)
    assert plan_compensation(g, states) == Plan(start=("ua",))
    assert plan_compensation(g, states | {"ua": FAILED}) == Plan(start=("ticket",))
    done = states | {"ua": FAILED, "ticket": ok()}
    assert plan_compensation(g, done) == Plan(finish=RunStatus.FAILED, reason="compensated")
    # Succeeded: its error edge is dead, and the run ends.
    assert plan_compensation(g, states | {"ua": ok()}) == Plan(
        skip=("ticket",), finish=RunStatus.FAILED, reason="compensated"
    )


def test_without_a_succeeded_compensated_step_a_failure_ends_the_run():
    g = chain_saga()
    assert plan(g, {"start": ok(), "a": FAILED}) == Plan(
        skip=("b", "c", "ua", "ub", "uc"), finish=RunStatus.FAILED, reason="step 'a' failed"
    )
