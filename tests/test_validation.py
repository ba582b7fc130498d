"""Graph validation (CONTRACT §1-§3): ``validate_graph`` names every fault, and only faults.

Each test breaks one small valid graph in exactly one way and checks the code and where it
points (node, edge, field). ``validate_graph`` is pure, so no database is needed; the catalog is
filled when Django starts (engine/apps.py), which pytest-django does before collection.
"""

import copy
import json
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.validation import CODES, MAX_NODES, validate_graph

ERROR_KEYS = {"node", "edge", "field", "code", "message"}

# The codes some test below asserts; test_every_code_has_a_test compares it with CODES, so a new
# code without a test fails the suite.
COVERED: set[str] = set()


def covers(*covered_codes: str) -> Callable:
    def mark(test: Callable) -> Callable:
        COVERED.update(covered_codes)
        return test

    return mark


# --- Graphs and helpers ----------------------------------------------------------------------
def base_graph() -> dict[str, Any]:
    """start -> check -> big (true) | small (false); every later test breaks one thing in it."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "trigger.manual", "config": {}},
            {
                "id": "check",
                "type": "logic.condition",
                "config": {"expression": "input.amount > 1000"},
            },
            {
                "id": "big",
                "type": "data.transform",
                "config": {
                    "value": {"amount": "{{ input.amount }}", "large": "{{ steps.check.output }}"}
                },
            },
            {"id": "small", "type": "data.transform", "config": {"value": "{{ input.name }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "check"},
            {"id": "e2", "source": "check", "source_handle": "true", "target": "big"},
            {"id": "e3", "source": "check", "source_handle": "false", "target": "small"},
        ],
        "input_schema": {
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "number"}, "name": {"type": "string"}},
        },
    }


def codes(graph: Any) -> list[str]:
    return [err["code"] for err in validate_graph(graph)]


def node(graph: dict, node_id: str) -> dict:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


def add_node(
    graph: dict, node_id: str, type_name: str, config: Any, *, after: str | None = "small", **extra
) -> dict:
    """Append a node (and an edge to it from ``after``, so it is reachable); return the node."""
    new = {"id": node_id, "type": type_name, "config": config, **extra}
    graph["nodes"].append(new)
    if after is not None:
        graph["edges"].append({"id": f"to_{node_id}", "source": after, "target": node_id})
    return new


def add_edge(graph: dict, edge_id: str, source: str, target: str, handle: str | None = None):
    edge = {"id": edge_id, "source": source, "target": target}
    if handle is not None:
        edge["source_handle"] = handle
    graph["edges"].append(edge)


def where(
    code: str, *, node: str | None = None, edge: str | None = None, field: str | None = None
) -> dict[str, Any]:
    return {"code": code, "node": node, "edge": edge, "field": field}


def located(errors: list[dict]) -> list[dict]:
    """The errors without their messages (after checking each has one)."""
    for err in errors:
        assert isinstance(err["message"], str) and err["message"], err
    return [{key: err[key] for key in ("code", "node", "edge", "field")} for err in errors]


def assert_only(graph: dict, code: str, **at: str | None) -> None:
    """The graph has exactly one error: ``code`` at ``at``."""
    assert located(validate_graph(graph)) == [where(code, **at)]


def with_http(graph: dict, **config: Any) -> dict:
    """An http.request node ``h`` after ``small``, with a valid config updated by ``config``."""
    return add_node(graph, "h", "http.request", {"url": "http://127.0.0.1:9000/pay", **config})


CONTRACT_EXAMPLE = """
{
  "format": 1,
  "nodes": [
    {"id": "start", "type": "trigger.manual", "label": "Start", "position": {"x": 0, "y": 0}, "config": {}},
    {"id": "big", "type": "logic.condition", "config": {"expression": "input.amount > 1000"}},
    {"id": "approve", "type": "human.approval",
     "config": {"title": "Approve {{ input.amount }} EUR", "assignees": {"groups": ["finance"]}, "due_in_s": 86400}},
    {"id": "pay", "type": "http.request", "join": "one_success",
     "config": {"method": "POST", "url": "http://127.0.0.1:9000/pay", "body": {"amount": "{{ input.amount }}"}},
     "retry": {"max_attempts": 5, "backoff_s": 1, "backoff_factor": 2, "max_backoff_s": 60, "jitter": true},
     "timeout_s": 30}
  ],
  "edges": [
    {"id": "e1", "source": "start", "target": "big"},
    {"id": "e2", "source": "big", "source_handle": "true", "target": "approve"},
    {"id": "e3", "source": "big", "source_handle": "false", "target": "pay"},
    {"id": "e4", "source": "approve", "source_handle": "approved", "target": "pay"}
  ],
  "input_schema": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}},
  "output": {"paid": "{{ steps.pay.output.status == 200 }}"}
}
"""  # noqa: E501 (copied verbatim from CONTRACT.md §1)


# --- Valid graphs ----------------------------------------------------------------------------
def test_the_base_graph_is_valid():
    assert validate_graph(base_graph()) == []


def test_the_contract_example_graph_is_valid():
    assert validate_graph(json.loads(CONTRACT_EXAMPLE)) == []


def test_validation_does_not_change_the_graph():
    graph = base_graph()
    validate_graph(graph)
    assert graph == base_graph()


def test_every_code_has_a_test():
    assert set(CODES) == COVERED


# --- Structure -------------------------------------------------------------------------------
@covers("unsupported_format")
def test_format_2_is_an_unsupported_format():
    graph = base_graph()
    graph["format"] = 2
    assert_only(graph, "unsupported_format", field="format")


def test_format_2_written_as_a_float_is_an_unsupported_format():
    graph = base_graph()
    graph["format"] = 2.0
    assert "unsupported_format" in codes(graph)


@covers("too_many_nodes")
def test_2001_nodes_are_too_many_nodes_in_exactly_one_error():
    graph = base_graph()
    graph["nodes"] += [
        {"id": f"n{i}", "type": "data.transform", "config": {"value": f"{{{{ nope{i} }}}}"}}
        for i in range(MAX_NODES + 1 - len(graph["nodes"]))
    ]
    assert len(graph["nodes"]) == 2001
    assert_only(graph, "too_many_nodes", field="nodes")


def test_a_chain_of_2000_nodes_is_valid():
    # At the limit, and deep enough to break a recursive cycle search.
    graph = base_graph()
    previous = "small"
    for i in range(MAX_NODES - len(graph["nodes"])):
        add_node(graph, f"n{i}", "data.transform", {"value": i}, after=previous)
        previous = f"n{i}"
    assert len(graph["nodes"]) == MAX_NODES
    assert validate_graph(graph) == []


@covers("invalid_id")
@pytest.mark.parametrize("bad_id", ["Start", "1st", "", "with-dash", "a" * 65, "ünï", "a b"])
def test_a_node_id_outside_the_pattern_is_an_invalid_id(bad_id):
    graph = base_graph()
    add_node(graph, bad_id, "data.transform", {"value": 1}, after=None)
    assert_only(graph, "invalid_id", node=bad_id, field="id")


def test_a_64_character_node_id_is_valid():
    graph = base_graph()
    add_node(graph, "a" * 64, "data.transform", {"value": 1})
    assert validate_graph(graph) == []


@covers("duplicate_id")
def test_two_nodes_with_one_id_are_a_duplicate_id():
    graph = base_graph()
    add_node(graph, "small", "data.transform", {"value": 1}, after=None)
    assert_only(graph, "duplicate_id", node="small", field="id")


def test_two_edges_with_one_id_are_a_duplicate_id():
    graph = base_graph()
    add_edge(graph, "e1", "check", "small", handle="error")
    assert_only(graph, "duplicate_id", edge="e1", field="id")


@covers("unknown_step_type")
def test_a_type_missing_from_the_catalog_is_an_unknown_step_type():
    graph = base_graph()
    node(graph, "big")["type"] = "data.nope"
    assert_only(graph, "unknown_step_type", node="big", field="type")


def test_a_node_config_that_is_not_an_object_is_an_invalid_type():
    graph = base_graph()
    node(graph, "small")["config"] = []
    assert_only(graph, "invalid_type", node="small", field="config")


def test_a_node_field_the_format_does_not_have_is_an_unknown_field():
    graph = base_graph()
    node(graph, "small")["colour"] = "red"
    assert_only(graph, "unknown_field", node="small", field="colour")


# --- Triggers --------------------------------------------------------------------------------
@covers("no_trigger")
def test_a_graph_without_a_trigger_has_no_trigger():
    graph = base_graph()
    node(graph, "start").update(type="data.transform", config={"value": 1})
    assert_only(graph, "no_trigger", field="nodes")


@covers("multiple_triggers")
def test_a_second_trigger_is_multiple_triggers():
    graph = base_graph()
    add_node(graph, "again", "trigger.manual", {}, after=None)
    assert_only(graph, "multiple_triggers", node="again", field="type")


@covers("trigger_has_incoming")
def test_an_edge_into_the_trigger_is_trigger_has_incoming():
    graph = base_graph()
    add_edge(graph, "e4", "small", "start")
    errors = located(validate_graph(graph))
    assert where("trigger_has_incoming", node="start", edge="e4", field="target") in errors
    # Any edge into the trigger from a reachable node also closes a cycle.
    assert sorted(err["code"] for err in errors) == ["cycle", "trigger_has_incoming"]


# --- Edges -----------------------------------------------------------------------------------
@covers("unknown_node")
def test_an_edge_from_a_missing_node_is_unknown_node():
    graph = base_graph()
    add_edge(graph, "e4", "ghost", "small")
    assert_only(graph, "unknown_node", edge="e4", field="source")


def test_an_edge_to_a_missing_node_is_unknown_node():
    graph = base_graph()
    add_edge(graph, "e4", "small", "ghost")
    assert_only(graph, "unknown_node", edge="e4", field="target")


@covers("unknown_handle")
def test_an_edge_from_out_of_a_condition_is_an_unknown_handle():
    graph = base_graph()
    add_edge(graph, "e4", "check", "small", handle="out")
    assert_only(graph, "unknown_handle", node="check", edge="e4", field="source_handle")


def test_an_edge_without_a_handle_from_a_condition_is_an_unknown_handle():
    graph = base_graph()
    add_edge(graph, "e4", "check", "small")  # the default handle is "out"
    assert_only(graph, "unknown_handle", node="check", edge="e4", field="source_handle")


def test_a_fail_node_has_no_out_handle():
    graph = base_graph()
    add_node(graph, "stop", "flow.fail", {"message": "no"})
    add_edge(graph, "e4", "stop", "big")
    assert_only(graph, "unknown_handle", node="stop", edge="e4", field="source_handle")


def switch_graph() -> dict:
    """The base graph with its condition replaced by a switch with one case, ``large``."""
    graph = base_graph()
    node(graph, "check").update(
        type="logic.switch",
        config={"cases": [{"name": "large", "expression": "input.amount > 1000"}]},
    )
    graph["edges"][1]["source_handle"] = "large"
    graph["edges"][2]["source_handle"] = "default"
    return graph


def test_a_switch_has_a_handle_per_case_and_default():
    assert validate_graph(switch_graph()) == []


def test_an_edge_from_a_handle_no_case_names_is_an_unknown_handle():
    graph = switch_graph()
    add_edge(graph, "e4", "check", "small", handle="true")
    assert_only(graph, "unknown_handle", node="check", edge="e4", field="source_handle")


@pytest.mark.parametrize("source", ["start", "check", "big"])
def test_every_node_has_an_error_handle(source):
    graph = base_graph()
    add_node(graph, "on_error", "data.transform", {"value": "failed"}, after=None)
    add_edge(graph, "e4", source, "on_error", handle="error")
    assert validate_graph(graph) == []


def test_a_switch_has_an_error_handle():
    graph = switch_graph()
    add_edge(graph, "e4", "check", "small", handle="error")
    assert validate_graph(graph) == []


@covers("duplicate_edge")
def test_a_second_edge_with_the_same_source_handle_and_target_is_a_duplicate_edge():
    graph = base_graph()
    add_edge(graph, "e4", "check", "small", handle="false")
    assert_only(graph, "duplicate_edge", edge="e4")


def test_edges_between_the_same_nodes_from_other_handles_are_not_duplicates():
    graph = base_graph()
    add_edge(graph, "e4", "check", "small", handle="error")
    assert validate_graph(graph) == []


@covers("cycle")
def test_an_edge_back_to_an_ancestor_is_a_cycle():
    graph = base_graph()
    add_edge(graph, "e4", "small", "check")
    # The error points at the component's first node in sorted order.
    assert_only(graph, "cycle", node="check")


def test_an_edge_from_a_node_to_itself_is_a_cycle():
    graph = base_graph()
    add_edge(graph, "e4", "small", "small")
    assert_only(graph, "cycle", node="small")


@covers("unreachable")
def test_a_node_without_incoming_edges_is_unreachable():
    graph = base_graph()
    add_node(graph, "orphan", "data.transform", {"value": 1}, after=None)
    assert_only(graph, "unreachable", node="orphan")


def test_a_node_reachable_only_through_an_unknown_handle_is_unreachable_too():
    graph = base_graph()
    graph["edges"][2]["source_handle"] = "maybe"
    assert located(validate_graph(graph)) == [
        where("unknown_handle", node="check", edge="e3", field="source_handle"),
        where("unreachable", node="small"),
    ]


# --- Expressions -----------------------------------------------------------------------------
@covers("expression_syntax")
def test_a_condition_that_does_not_parse_is_an_expression_syntax_error():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "input.amount >"
    assert_only(graph, "expression_syntax", node="check", field="config.expression")


def test_a_condition_in_braces_is_an_expression_syntax_error():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "{{ input.amount > 1000 }}"
    assert_only(graph, "expression_syntax", node="check", field="config.expression")


def test_an_unclosed_template_in_a_url_is_an_expression_syntax_error():
    graph = base_graph()
    with_http(graph, url="http://127.0.0.1:9000/{{ input.amount")
    assert_only(graph, "expression_syntax", node="h", field="config.url")


def test_an_unknown_filter_is_an_expression_syntax_error():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "input.amount | nosuchfilter"
    assert_only(graph, "expression_syntax", node="check", field="config.expression")


def test_an_unknown_filter_in_a_template_is_an_expression_syntax_error():
    graph = base_graph()
    node(graph, "big")["config"]["value"]["amount"] = "{{ input.amount | nosuchfilter }}"
    assert_only(graph, "expression_syntax", node="big", field="config.value.amount")


def test_a_broken_switch_case_is_an_expression_syntax_error():
    graph = switch_graph()
    node(graph, "check")["config"]["cases"][0]["expression"] = "input.amount >>> 1"
    assert_only(graph, "expression_syntax", node="check", field="config.cases.0.expression")


def test_a_string_without_braces_is_not_an_expression():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "input.nope + steps.ghost"
    assert validate_graph(graph) == []


@covers("unknown_name")
def test_a_bare_name_is_an_unknown_name():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "amount > 1000"
    assert_only(graph, "unknown_name", node="check", field="config.expression")


@pytest.mark.parametrize("expression", ["run.id", "steps.start.status", "input.amount"])
def test_the_contract_names_are_known(expression):
    graph = base_graph()
    node(graph, "small")["config"]["value"] = f"{{{{ {expression} }}}}"
    assert validate_graph(graph) == []


@covers("unknown_step")
def test_steps_naming_no_node_is_an_unknown_step():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ steps.ghost.output }}"
    assert_only(graph, "unknown_step", node="small", field="config.value")


@covers("not_upstream")
def test_a_step_on_a_sibling_branch_is_not_upstream():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ steps.big.output }}"
    assert_only(graph, "not_upstream", node="small", field="config.value")


def test_a_step_naming_itself_is_not_upstream():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ steps.small.output }}"
    assert_only(graph, "not_upstream", node="small", field="config.value")


def test_a_step_two_edges_up_is_upstream():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ steps.start.output }}"
    assert validate_graph(graph) == []


@covers("unknown_step_field")
def test_a_step_field_other_than_output_status_error_is_an_unknown_step_field():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ steps.check.result }}"
    assert_only(graph, "unknown_step_field", node="small", field="config.value")


@pytest.mark.parametrize("step_field", ["output", "status", "error"])
def test_output_status_and_error_are_step_fields(step_field):
    graph = base_graph()
    node(graph, "small")["config"]["value"] = f"{{{{ steps.check.{step_field} }}}}"
    assert validate_graph(graph) == []


@covers("unknown_input_field")
def test_an_input_name_the_schema_does_not_declare_is_an_unknown_input_field():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ input.nmae }}"
    assert_only(graph, "unknown_input_field", node="small", field="config.value")


def test_an_undeclared_input_name_in_a_condition_is_an_unknown_input_field():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "input['total'] > 1"
    assert_only(graph, "unknown_input_field", node="check", field="config.expression")


@pytest.mark.parametrize(
    "input_schema",
    [
        {"type": "object", "properties": {"amount": {}}, "additionalProperties": True},
        {"type": "object", "properties": {"amount": {}}, "additionalProperties": {}},
        {"type": "object", "properties": {"amount": {}}, "patternProperties": {"^x": {}}},
        {"type": "object", "properties": {}},
        {"type": "object"},
        {},
        None,
    ],
    ids=[
        "additional-true",
        "additional-schema",
        "pattern",
        "no-properties",
        "bare",
        "empty",
        "none",
    ],
)
def test_undeclared_input_names_are_allowed_when_the_schema_allows_them(input_schema):
    graph = base_graph()
    if input_schema is None:
        del graph["input_schema"]
    else:
        graph["input_schema"] = input_schema
    node(graph, "small")["config"]["value"] = "{{ input.anything }}"
    assert validate_graph(graph) == []


@covers("forbidden_attribute")
def test_a_dunder_attribute_of_input_is_a_forbidden_attribute():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ input.__class__ }}"
    assert_only(graph, "forbidden_attribute", node="small", field="config.value")


def test_a_private_attribute_of_a_step_output_is_a_forbidden_attribute():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ steps.check.output._secret }}"
    assert_only(graph, "forbidden_attribute", node="small", field="config.value")


@pytest.mark.parametrize("template", ["{{ ''.__class__ }}", "{{ (input.name | lower).__class__ }}"])
def test_a_dunder_attribute_of_any_value_is_a_forbidden_attribute(template):
    graph = base_graph()
    node(graph, "small")["config"]["value"] = template
    assert "forbidden_attribute" in codes(graph)


@pytest.mark.parametrize("attribute", ["mro", "func_globals", "gi_frame"])
def test_an_internal_attribute_without_an_underscore_is_a_forbidden_attribute(attribute):
    graph = base_graph()
    node(graph, "small")["config"]["value"] = f"{{{{ input.name.{attribute} }}}}"
    assert_only(graph, "forbidden_attribute", node="small", field="config.value")


@covers("expression_limit")
@pytest.mark.parametrize(
    "template", ["{{ 10**10000000 }}", "{{ 'a' * 10**10 }}", "{{ range(10**9)|list }}"]
)
def test_constants_past_a_limit_of_the_sandbox_are_an_expression_limit(template):
    graph = base_graph()
    node(graph, "small")["config"]["value"] = template
    assert_only(graph, "expression_limit", node="small", field="config.value")


def test_the_same_operators_on_run_data_are_left_to_the_run():
    graph = base_graph()
    node(graph, "small")["config"]["value"] = "{{ input.name * input.amount }}"
    assert validate_graph(graph) == []


@covers("invalid_input_schema")
def test_an_input_schema_with_an_unknown_type_is_an_invalid_input_schema():
    graph = base_graph()
    graph["input_schema"]["properties"]["amount"]["type"] = "numbr"
    assert_only(graph, "invalid_input_schema", field="input_schema.properties.amount.type")


def test_an_input_schema_not_of_an_object_is_an_invalid_input_schema():
    graph = base_graph()
    graph["input_schema"] = {"type": "array"}
    assert_only(graph, "invalid_input_schema", field="input_schema.type")


def test_sample_inputs_that_fit_the_input_schema_are_valid():
    graph = base_graph()
    graph["input_schema"]["examples"] = [{"amount": 1200, "name": "ACME"}, {"amount": 5}]
    assert validate_graph(graph) == []


@covers("invalid_example")
def test_a_sample_input_the_input_schema_refuses_is_an_invalid_example():
    graph = base_graph()
    graph["input_schema"]["examples"] = [{"amount": 1200}, {"amount": "a lot"}]
    assert_only(graph, "invalid_example", field="input_schema.examples.1.amount")


# --- Email-only assignees (issue 19: decide from the email) --------------------------------------
def approval_by_email(graph: dict, **config: Any) -> dict:
    ask = {"title": "Pay", "assignees": {"emails": ["ann@example.com"]}, **config}
    return add_node(graph, "ask", "human.approval", ask)


@covers("email_links_login")
def test_assignees_by_email_under_the_login_policy_are_refused_naming_node_and_field():
    graph = base_graph()
    approval_by_email(graph, email_links="login")
    assert_only(graph, "email_links_login", node="ask", field="config.email_links")


def test_assignees_by_email_without_a_policy_get_the_login_default_and_are_refused():
    graph = base_graph()
    approval_by_email(graph)
    assert_only(graph, "email_links_login", node="ask", field="config.email_links")


def test_assignees_by_email_whose_links_are_enough_are_valid():
    graph = base_graph()
    approval_by_email(graph, email_links="link")
    assert validate_graph(graph) == []


def test_an_assignee_address_that_is_no_address_is_invalid():
    graph = base_graph()
    ask = approval_by_email(graph, email_links="link")
    ask["config"]["assignees"]["emails"] = ["not an address"]
    assert [e["field"] for e in validate_graph(graph)] == ["config.assignees.emails.0"]


def test_examples_that_are_not_a_list_are_an_invalid_input_schema():
    graph = base_graph()
    graph["input_schema"]["examples"] = {"amount": 5}
    assert_only(graph, "invalid_input_schema", field="input_schema.examples")


def test_item_and_index_are_names_in_a_map_input():
    graph = base_graph()
    graph["input_schema"]["properties"]["orders"] = {"type": "array"}
    add_node(
        graph,
        "each",
        "flow.map",
        {
            "items": "{{ input.orders }}",
            "workflow": {"name": "ship"},
            "input": {"order": "{{ item }}", "position": "{{ index + 1 }}"},
        },
    )
    assert validate_graph(graph) == []


def test_item_is_an_unknown_name_in_a_map_items():
    graph = base_graph()
    add_node(graph, "each", "flow.map", {"items": "{{ item }}", "workflow": {"id": 1}})
    assert_only(graph, "unknown_name", node="each", field="config.items")


@pytest.mark.parametrize("name", ["item", "index"])
def test_item_and_index_are_unknown_names_outside_a_map(name):
    graph = base_graph()
    node(graph, "small")["config"]["value"] = f"{{{{ {name} }}}}"
    assert_only(graph, "unknown_name", node="small", field="config.value")


def test_the_output_may_name_any_step():
    graph = base_graph()
    graph["output"] = {"big": "{{ steps.big.output }}", "small": "{{ steps.small.status }}"}
    assert validate_graph(graph) == []


def test_a_missing_step_in_the_output_is_an_unknown_step_of_no_node():
    graph = base_graph()
    graph["output"] = {"ok": "{{ steps.big.output }}", "paid": "{{ steps.pay.output }}"}
    assert_only(graph, "unknown_step", field="output.paid")


def test_a_missing_step_deep_in_the_output_names_its_path():
    graph = base_graph()
    graph["output"] = {"report": {"lines": ["{{ steps.pay.output }}"]}}
    assert_only(graph, "unknown_step", field="output.report.lines.0")


# --- Configs (JSON Schema errors mapped to codes) --------------------------------------------
@covers("required")
def test_an_http_request_without_url_is_required_config_url():
    graph = base_graph()
    del with_http(graph)["config"]["url"]
    assert_only(graph, "required", node="h", field="config.url")


@covers("invalid_type")
def test_a_string_where_a_boolean_belongs_is_an_invalid_type():
    graph = base_graph()
    with_http(graph, follow_redirects="yes")
    assert_only(graph, "invalid_type", node="h", field="config.follow_redirects")


@covers("unknown_field")
def test_a_misspelt_config_field_is_an_unknown_field():
    graph = base_graph()
    with_http(graph, methd="POST")
    assert_only(graph, "unknown_field", node="h", field="config.methd")


@covers("invalid_choice")
def test_method_fetch_is_an_invalid_choice():
    graph = base_graph()
    with_http(graph, method="FETCH")
    assert_only(graph, "invalid_choice", node="h", field="config.method")


@covers("out_of_range")
def test_zero_max_attempts_is_out_of_range():
    graph = base_graph()
    with_http(graph)["retry"] = {"max_attempts": 0}
    assert_only(graph, "out_of_range", node="h", field="retry.max_attempts")


def test_max_backoff_below_backoff_is_out_of_range():
    graph = base_graph()
    with_http(graph)["retry"] = {"backoff_s": 10, "max_backoff_s": 5}
    assert_only(graph, "out_of_range", node="h", field="retry.max_backoff_s")


def test_a_zero_timeout_is_out_of_range():
    graph = base_graph()
    with_http(graph)["timeout_s"] = 0
    assert_only(graph, "out_of_range", node="h", field="timeout_s")


def test_an_expected_status_below_100_is_out_of_range():
    graph = base_graph()
    with_http(graph, expected_status=[99])
    assert_only(graph, "out_of_range", node="h", field="config.expected_status.0")


def schedule_graph(**config: Any) -> dict:
    graph = base_graph()
    node(graph, "start").update(type="trigger.schedule", config={"cron": "0 9 * * 1-5", **config})
    return graph


def test_a_schedule_trigger_is_valid():
    assert validate_graph(schedule_graph(timezone="Europe/Paris")) == []


@covers("invalid_format")
def test_a_cron_that_is_not_a_cron_is_an_invalid_format():
    assert_only(
        schedule_graph(cron="not a cron"), "invalid_format", node="start", field="config.cron"
    )


def test_an_unknown_time_zone_is_an_invalid_format():
    graph = schedule_graph(timezone="Mars/Olympus_Mons")
    assert_only(graph, "invalid_format", node="start", field="config.timezone")


def test_a_url_without_scheme_is_an_invalid_format():
    graph = base_graph()
    with_http(graph, url="127.0.0.1:9000/pay")
    assert_only(graph, "invalid_format", node="h", field="config.url")


def test_a_templated_url_is_not_a_format_error():
    graph = base_graph()
    graph["input_schema"]["properties"]["url"] = {"type": "string"}
    with_http(graph, url="{{ input.url }}")
    assert validate_graph(graph) == []


def test_a_url_with_an_unclosed_bracket_is_an_invalid_format():
    graph = base_graph()
    with_http(graph, url="http://[::1/pay")
    assert_only(graph, "invalid_format", node="h", field="config.url")


def delay_graph(config: dict) -> dict:
    graph = base_graph()
    add_node(graph, "wait", "flow.delay", config)
    return graph


@pytest.mark.parametrize("config", [{"seconds": 60}, {"until": "2030-01-31T09:00:00+01:00"}])
def test_a_delay_with_seconds_or_until_is_valid(config):
    assert validate_graph(delay_graph(config)) == []


@covers("invalid")
@pytest.mark.parametrize(
    "config", [{"seconds": 60, "until": "2030-01-31T09:00:00+01:00"}, {}], ids=["both", "neither"]
)
def test_a_delay_with_both_or_neither_of_seconds_and_until_is_invalid(config):
    assert_only(delay_graph(config), "invalid", node="wait", field="config")


def test_headers_that_are_neither_an_object_nor_a_template_are_invalid():
    graph = base_graph()
    with_http(graph, headers="Accept: text/plain")
    # The string branch of anyOf matched the type: its own error (the template pattern).
    assert_only(graph, "invalid_format", node="h", field="config.headers")


# --- Many faults at once ---------------------------------------------------------------------
def test_seven_faults_come_back_together():
    graph = base_graph()
    add_node(graph, "Bad", "data.transform", {"value": 1}, after=None)  # invalid_id
    node(graph, "big")["type"] = "data.nope"  # unknown_step_type
    add_edge(graph, "e9", "small", "ghost")  # unknown_node
    add_edge(graph, "e4", "check", "small", handle="false")  # duplicate_edge
    add_node(graph, "orphan", "data.transform", {"value": 1}, after=None)  # unreachable
    node(graph, "check")["config"]["expression"] = "amount > 1000"  # unknown_name
    with_http(graph, method="FETCH")  # invalid_choice

    errors = located(validate_graph(graph))

    assert sorted(errors, key=lambda e: e["code"]) == [
        where("duplicate_edge", edge="e4"),
        where("invalid_choice", node="h", field="config.method"),
        where("invalid_id", node="Bad", field="id"),
        where("unknown_name", node="check", field="config.expression"),
        where("unknown_node", edge="e9", field="target"),
        where("unknown_step_type", node="big", field="type"),
        where("unreachable", node="orphan"),
    ]


# --- Never raises ----------------------------------------------------------------------------
def assert_well_formed(errors: Any) -> None:
    assert isinstance(errors, list)
    for err in errors:
        assert isinstance(err, dict)
        assert set(err) == ERROR_KEYS
        assert err["code"] in CODES
        assert isinstance(err["message"], str)
        for key in ("node", "edge", "field"):
            assert err[key] is None or isinstance(err[key], str)


NESTED_GARBAGE = {
    "format": 1,
    "nodes": [
        {"id": "a", "type": "trigger.manual", "config": [[[{}]]], "retry": "x", "join": 7},
        {"id": "b", "type": "logic.switch", "config": {"cases": [None, {"name": ["x"]}, 3]}},
        {"id": "c", "type": "http.request", "config": None, "position": {"x": "left"}},
        {"id": "d", "type": {"nested": ["type"]}, "config": {"value": {"{{": "{{ }}"}}},
        {"id": "e", "type": "flow.map", "config": {"items": 1, "input": {"x": "{{ item["}}},
    ],
    "edges": [
        {"id": "e", "source": "a", "target": "a", "source_handle": None},
        {"id": ["e"], "source": "b", "target": "c", "source_handle": "default"},
        {"id": "f", "source": "b", "target": "c", "source_handle": ""},
        {"id": "g", "source": {"a": 1}, "target": [], "extra": True},
        None,
    ],
    "input_schema": {"type": 5, "properties": []},
    "output": {"a": [{"b": "{{"}], "c": "{{ steps[1].x.__y__ }}", "d": "{{ steps }}"},
    "extra": {"deep": [[[[[[[]]]]]]]},
}


@pytest.mark.parametrize(
    "junk",
    [
        None,
        [],
        "x",
        1,
        1.5,
        True,
        {},
        {"nodes": "x"},
        {"nodes": [1, None, {"id": 5}]},
        {"edges": [{"source": 1}]},
        {"format": "1", "nodes": {}, "edges": 0},
        {"format": 1, "nodes": [], "edges": []},
        {"format": 1, "nodes": [{"id": "a", "type": "trigger.manual"}], "edges": [[]]},
        {"format": 1, "nodes": [], "edges": [], "input_schema": [], "output": "{{"},
        NESTED_GARBAGE,
    ],
)
def test_junk_gets_errors_not_an_exception(junk):
    errors = validate_graph(copy.deepcopy(junk))
    assert_well_formed(errors)
    assert errors != []


def test_a_huge_integer_literal_gets_an_error_not_an_exception():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "input.amount > " + "9" * 5000
    assert_well_formed(validate_graph(graph))


def test_deeply_nested_config_gets_no_exception():
    value: Any = "{{ input.amount }}"
    for _ in range(400):
        value = [value]
    graph = base_graph()
    node(graph, "small")["config"]["value"] = value
    graph["output"] = {"deep": value}
    assert validate_graph(graph) == []


def test_deeply_nested_expression_gets_an_error_not_an_exception():
    graph = base_graph()
    node(graph, "check")["config"]["expression"] = "(" * 5000 + "1" + ")" * 5000
    assert_well_formed(validate_graph(graph))


TEMPLATE_TEXTS = st.sampled_from(
    [
        "{{ input.amount }}",
        "{{ steps.a.output }}",
        "{{ steps.zz.nope }}",
        "{{",
        "{% if %}",
        "{{ item }}",
        "input.amount > 1",
        "{{ input.__class__ }}",
        "a",
        "out",
        "error",
        "true",
        "default",
    ]
)
TYPE_NAMES = st.sampled_from(
    ["trigger.manual", "logic.condition", "logic.switch", "http.request", "data.transform"]
)
KEYS = st.sampled_from(
    [
        "id",
        "type",
        "config",
        "source",
        "target",
        "source_handle",
        "retry",
        "timeout_s",
        "join",
        "expression",
        "value",
        "url",
        "cases",
        "name",
        "properties",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | TEMPLATE_TEXTS
    | TYPE_NAMES
    | st.sampled_from(["a", "b", "c"])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)
NODE_LIKE = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c"]) | JSON, "type": TYPE_NAMES | JSON},
    optional={"config": JSON, "retry": JSON, "join": JSON, "timeout_s": JSON},
)
EDGE_LIKE = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["x", "y"]) | JSON,
        "source": st.sampled_from(["a", "b", "c"]) | JSON,
        "target": st.sampled_from(["a", "b", "c"]) | JSON,
    },
    optional={"source_handle": TEMPLATE_TEXTS | JSON},
)
GRAPH_LIKE = st.fixed_dictionaries(
    {
        "format": st.just(1) | JSON,
        "nodes": st.lists(NODE_LIKE | JSON, max_size=6) | JSON,
        "edges": st.lists(EDGE_LIKE | JSON, max_size=6) | JSON,
    },
    optional={"input_schema": JSON, "output": JSON},
)


@settings(max_examples=300, deadline=None)
@given(JSON | GRAPH_LIKE)
def test_any_json_gets_well_formed_errors(graph):
    assert_well_formed(validate_graph(graph))


# --- Random DAGs -----------------------------------------------------------------------------
@st.composite
def dags(draw) -> tuple[dict, dict[int, set[int]]]:
    """A valid graph of n0 (trigger) .. n<k> (transforms), edges only from lower to higher
    index and every node after n0 fed by at least one; with each node's ancestors."""
    n = draw(st.integers(min_value=2, max_value=25))
    ancestors: dict[int, set[int]] = {0: set()}
    nodes: list[dict] = [{"id": "n0", "type": "trigger.manual", "config": {}}]
    edges: list[dict] = []
    for i in range(1, n):
        parents = draw(st.sets(st.integers(0, i - 1), min_size=1, max_size=min(i, 3)))
        ancestors[i] = set(parents).union(*(ancestors[p] for p in parents))
        for parent in sorted(parents):
            edges.append({"id": f"e{parent}_{i}", "source": f"n{parent}", "target": f"n{i}"})
        if draw(st.booleans()):
            upstream = draw(st.sampled_from(sorted(ancestors[i])))
            value: Any = f"{{{{ steps.n{upstream}.output }}}}"
        else:
            value = draw(st.integers() | st.booleans() | st.text(string.ascii_letters, max_size=8))
        nodes.append({"id": f"n{i}", "type": "data.transform", "config": {"value": value}})
    return {"format": 1, "nodes": nodes, "edges": edges}, ancestors


@settings(max_examples=60, deadline=None)
@given(dags())
def test_a_random_dag_fed_from_the_trigger_is_valid(dag):
    graph, _ = dag
    assert validate_graph(graph) == []


@settings(max_examples=60, deadline=None)
@given(dags(), st.data())
def test_any_edge_back_to_an_ancestor_or_itself_is_a_cycle(dag, data):
    graph, ancestors = dag
    source = data.draw(st.sampled_from(sorted(ancestors)), label="source")
    target = data.draw(st.sampled_from(sorted(ancestors[source] | {source})), label="target")
    add_edge(graph, "back", f"n{source}", f"n{target}")
    assert "cycle" in codes(graph)


def test_a_templatable_number_out_of_its_range_says_out_of_range_not_invalid():
    graph = base_graph()
    add_node(graph, "wait", "flow.delay", {"seconds": -1})
    assert_only(graph, "out_of_range", node="wait", field="config.seconds")
    templated = base_graph()
    add_node(templated, "wait", "flow.delay", {"seconds": "{{ input.amount }}"})
    assert codes(templated) == []


# --- Compensation (issue 20) -------------------------------------------------------------------
def saga_graph() -> dict[str, Any]:
    """The base graph where ``undo`` is the compensation of ``big`` (edge c1)."""
    graph = base_graph()
    add_node(graph, "undo", "data.transform", {"value": "{{ compensating.output }}"}, after=None)
    add_edge(graph, "c1", "big", "undo", "compensate")
    return graph


def test_a_compensate_edge_makes_a_valid_compensation_exempt_from_reachability():
    assert validate_graph(saga_graph()) == []


def test_compensating_is_a_name_of_compensation_nodes_only():
    graph = saga_graph()
    node(graph, "small")["config"]["value"] = "{{ compensating.output }}"
    assert_only(graph, "unknown_name", node="small", field="config.value")


@covers("compensation_reachable")
def test_a_normal_edge_into_a_compensation_is_refused():
    graph = saga_graph()
    add_edge(graph, "e9", "small", "undo")
    assert_only(graph, "compensation_reachable", node="undo", edge="e9", field="target")


@covers("compensation_shared")
def test_two_steps_naming_one_compensation_are_refused():
    graph = saga_graph()
    add_edge(graph, "c2", "small", "undo", "compensate")
    assert_only(graph, "compensation_shared", node="undo", edge="c2", field="target")


@covers("compensation_multiple")
def test_a_step_with_two_compensations_is_refused():
    graph = saga_graph()
    add_node(graph, "undo2", "data.transform", {"value": 1}, after=None)
    add_edge(graph, "c2", "big", "undo2", "compensate")
    assert_only(graph, "compensation_multiple", node="big", edge="c2", field="source_handle")


@covers("compensation_has_edges")
def test_only_error_edges_may_leave_a_compensation():
    graph = saga_graph()
    add_node(graph, "after", "data.transform", {"value": 1}, after=None)
    add_edge(graph, "e9", "undo", "after")
    assert_only(graph, "compensation_has_edges", node="undo", edge="e9", field="source_handle")
    graph["edges"][-1]["source_handle"] = "error"
    assert validate_graph(graph) == []


@covers("compensation_nested")
def test_a_compensation_has_no_compensation_of_its_own():
    graph = saga_graph()
    add_node(graph, "undo2", "data.transform", {"value": 1}, after=None)
    add_edge(graph, "c2", "undo", "undo2", "compensate")
    assert where("compensation_nested", node="undo", edge="c2", field="source_handle") in located(
        validate_graph(graph)
    )


@covers("compensation_type")
@pytest.mark.parametrize("type_name", ["flow.fail", "flow.rollback", "trigger.manual"])
def test_a_trigger_fail_or_rollback_cannot_compensate(type_name):
    graph = saga_graph()
    node(graph, "undo")["type"] = type_name
    node(graph, "undo")["config"] = {"message": "x"} if type_name.startswith("flow") else {}
    assert where("compensation_type", node="undo", field="type") in located(validate_graph(graph))


def test_a_human_step_may_compensate():
    graph = saga_graph()
    node(graph, "undo")["type"] = "human.approval"
    node(graph, "undo")["config"] = {
        "title": "Undo {{ compensating.node }} by hand",
        "assignees": {"groups": ["ops"]},
    }
    assert validate_graph(graph) == []


def test_a_compensate_edge_back_to_its_step_is_a_cycle():
    graph = saga_graph()
    add_edge(graph, "c2", "undo", "big", "compensate")
    assert "cycle" in codes(graph)
    self_loop = base_graph()
    add_edge(self_loop, "c1", "big", "big", "compensate")
    assert "cycle" in codes(self_loop)


def test_a_switch_case_cannot_be_named_compensate():
    graph = base_graph()
    add_node(
        graph,
        "sw",
        "logic.switch",
        {"cases": [{"name": "compensate", "expression": "true"}]},
    )
    assert_only(graph, "invalid", node="sw", field="config.cases.0.name")
