"""The pure parts of comparing runs (engine/compare.py): no database."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from engine.compare import (
    attempt_history,
    compare_attempts,
    compare_steps,
    diff_graphs,
    duration_ms,
    node_order,
)

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def graph(nodes, edges, **extra):
    return {"format": 1, "nodes": nodes, "edges": edges, **extra}


def node(node_id, type="code.function", **more):
    return {"id": node_id, "type": type, "config": {}, "position": {"x": 0, "y": 0}, **more}


def edge(edge_id, source, target, handle=None):
    e = {"id": edge_id, "source": source, "target": target}
    if handle:
        e["source_handle"] = handle
    return e


V1 = graph(
    [node("start", "trigger.manual"), node("a", config={"url": "x"}), node("b")],
    [edge("e1", "start", "a"), edge("e2", "a", "b")],
)


# --- diff_graphs --------------------------------------------------------------------------------


def test_equal_graphs_differ_in_nothing():
    assert diff_graphs(V1, V1) == {
        "nodes": {"added": [], "removed": [], "changed": []},
        "edges": {"added": [], "removed": []},
        "other": [],
    }


def test_nodes_are_added_removed_and_changed_by_id_with_their_fields():
    after = graph(
        [
            node("start", "trigger.manual"),
            node("a", config={"url": "y", "method": "POST"}, label="Call", join="all_done"),
            node("c"),
        ],
        [edge("e1", "start", "a"), edge("e9", "a", "c")],
    )

    diff = diff_graphs(V1, after)

    assert diff["nodes"] == {
        "added": ["c"],
        "removed": ["b"],
        "changed": [{"id": "a", "fields": ["label", "join", "config.method", "config.url"]}],
    }
    assert diff["edges"] == {
        "added": [{"source": "a", "source_handle": "out", "target": "c"}],
        "removed": [{"source": "a", "source_handle": "out", "target": "b"}],
    }


def test_a_moved_node_and_a_renamed_edge_id_are_no_change():
    after = graph(
        [node("start", "trigger.manual"), node("a", config={"url": "x"}), node("b")],
        [edge("x1", "start", "a"), edge("x2", "a", "b", handle="out")],
    )
    after["nodes"][1]["position"] = {"x": 500, "y": 40}

    assert diff_graphs(V1, after)["nodes"]["changed"] == []
    assert diff_graphs(V1, after)["edges"] == {"added": [], "removed": []}


def test_an_edge_from_another_handle_is_another_edge():
    after = graph(V1["nodes"], [edge("e1", "start", "a"), edge("e2", "a", "b", handle="error")])

    diff = diff_graphs(V1, after)

    assert diff["edges"]["added"] == [{"source": "a", "source_handle": "error", "target": "b"}]
    assert diff["edges"]["removed"] == [{"source": "a", "source_handle": "out", "target": "b"}]


def test_input_schema_and_output_are_named_when_they_differ():
    after = {**V1, "input_schema": {"type": "object"}, "output": {"x": "{{ 1 }}"}}

    assert diff_graphs(V1, after)["other"] == ["input_schema", "output"]


# --- compare_steps ------------------------------------------------------------------------------


def step(status="succeeded", attempt=1, output=None, input=None, error=None, took=1.5):
    return SimpleNamespace(
        type="code.function",
        status=status,
        attempt=attempt,
        input=input,
        output=output,
        error=error,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=took) if took is not None else None,
    )


def test_steps_of_both_runs_come_in_graph_order_with_what_differs():
    a = {"start": step(), "b": step(output=1)}
    b = {"start": step(), "b": step(output=2, attempt=2), "c": step()}

    rows = compare_steps(a, b, {"c": "data.transform"}, order=["start", "b", "c"])

    assert [r["node"] for r in rows] == ["start", "b", "c"]
    assert rows[0]["changed"] == dict.fromkeys(
        ["status", "attempts", "input", "output", "error"], False
    )
    assert rows[1]["changed"]["output"] and rows[1]["changed"]["attempts"]
    assert not rows[1]["changed"]["status"]
    assert rows[1]["a"]["duration_ms"] == 1500
    assert rows[2]["a"] is None and rows[2]["type"] == "data.transform"
    assert all(rows[2]["changed"].values())


def test_a_step_without_an_end_has_no_duration_yet():
    assert duration_ms(T0, None) is None
    assert compare_steps({"x": step(took=None)}, {}, {})[0]["a"]["duration_ms"] is None


def test_node_order_is_the_first_graph_s_then_the_new_ones():
    later = graph([node("b"), node("z"), node("start")], [])

    assert node_order(V1, later) == ["start", "a", "b", "z"]


# --- attempt_history ----------------------------------------------------------------------------


def event(id, type, attempt, new="", seconds=0, **data):
    return SimpleNamespace(
        id=id,
        type=type,
        attempt=attempt,
        new_status=new,
        created_at=T0 + timedelta(seconds=seconds),
        data=data,
    )


EVENTS = [
    event(1, "step.queued", 1, "queued"),
    event(2, "step.started", 1, "running", 1),
    event(3, "step.retrying", 1, "retrying", 3, error={"message": "boom"}),
    event(4, "step.queued", 2, "queued", 60),
    event(5, "step.started", 2, "running", 61),
    event(6, "step.succeeded", 2, "succeeded", 62),
]


def test_an_earlier_attempt_keeps_its_status_times_error_and_log_not_its_output():
    current = step(attempt=2, output={"ok": True}, input={"url": "x"})
    logs = {1: SimpleNamespace(lines=[{"t": "", "level": "info", "message": "hello"}])}

    first = attempt_history(current, EVENTS, logs, 1)
    second = attempt_history(current, EVENTS, logs, 2)

    assert first["status"] == "retrying"
    assert first["duration_ms"] == 2000
    assert first["error"] == {"message": "boom"}
    assert (first["input"], first["input_kept"], first["output_kept"]) == (None, False, False)
    assert first["log"] == ["hello"]
    assert first["events"] == ["step.queued", "step.started", "step.retrying"]
    assert second["status"] == "succeeded"
    assert (second["output"], second["input"]) == ({"ok": True}, {"url": "x"})
    assert second["log"] is None  # logged nothing

    changed = compare_attempts(first, second)
    assert changed == {"status": True, "error": True, "input": None, "output": None, "log": None}


def test_an_edited_input_is_the_input_of_the_attempt_it_started():
    events = [event(1, "step.retried", 1, "queued", edited_input={"url": "fixed"})]

    history = attempt_history(step(attempt=3), events, {}, 1)

    assert (history["input"], history["input_kept"]) == ({"url": "fixed"}, True)
