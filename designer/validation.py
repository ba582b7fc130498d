"""Graph validation (CONTRACT §1): a pure function from a graph document to every violation.

No database and no I/O: the API, the importer, the designer's live checks and the engine all
call ``validate_graph``. It never raises on any JSON input; each violation is one error
``{"node", "edge", "field", "code", "message"}`` with a stable code from ``CODES``.
"""

import re
import zoneinfo
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from croniter import croniter
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from designer.catalog import StepCatalog, StepTypeSpec, catalog, handles_of
from designer.expressions import (
    ITEM_NAMES,
    ROOT_NAMES,
    STEP_FIELDS,
    TemplateError,
    analyse_expression,
    analyse_template,
    is_template,
)

FORMAT_VERSION = 1
MAX_GRAPH_BYTES = 1024 * 1024
MAX_NODES = 2000
COMPENSATE_HANDLE = "compensate"  # every node's reserved handle: an edge to what undoes it
# Step types a compensation cannot be: they start or end runs.
NOT_COMPENSATIONS = ("flow.fail", "flow.rollback")
NODE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
JOINS = ("all_success", "one_success", "none_failed", "all_done")
DEFAULT_HANDLE = "out"

# Every code this module emits, with what it means (docs/api/errors.md and the API docs list them).
CODES = {
    "required": "a required field is missing",
    "invalid_type": "a value has the wrong JSON type",
    "unknown_field": "a field that this object does not have",
    "invalid_choice": "a value outside its allowed set",
    "out_of_range": "a number, length or count outside its bounds",
    "invalid_format": "a string that does not have the required form (URL, cron, time zone...)",
    "invalid": "a value that matches none of its allowed shapes",
    "unsupported_format": "a graph format number this version does not read",
    "too_many_nodes": f"more than {MAX_NODES} nodes",
    "invalid_id": "a node id that is not [a-z][a-z0-9_]{0,63}",
    "duplicate_id": "two nodes or two edges with one id",
    "unknown_step_type": "a node type that is not in the step-type catalog",
    "no_trigger": "no trigger node",
    "multiple_triggers": "more than one trigger node",
    "trigger_has_incoming": "an edge into a trigger",
    "unknown_node": "an edge from or to a node that does not exist",
    "unknown_handle": "an edge from a handle its source does not have",
    "duplicate_edge": "two edges with the same source, handle and target",
    "cycle": "edges that form a cycle",
    "unreachable": "a node that cannot be reached from the trigger",
    "expression_syntax": "an expression or template that does not compile",
    "unknown_name": "an expression name other than input, steps, run (and item, index in a map)",
    "unknown_step": "steps.<id> naming no node",
    "not_upstream": "steps.<id> naming a node that does not run before this one",
    "unknown_step_field": "steps.<id>.<field> with a field other than output, status, error",
    "unknown_input_field": "input.<name> not declared in input_schema",
    "forbidden_attribute": "an attribute starting with _, or mro, gi_frame, func_globals, ... "
    "(the sandbox refuses them)",
    "expression_limit": "constants that make something past the sandbox's limits "
    "(10**10000000, 'a' * 10**10)",
    "invalid_input_schema": "input_schema is not a valid JSON Schema",
    "invalid_example": "a sample input in input_schema.examples that input_schema refuses",
    "email_links_login": 'assignees.emails on a human step whose email_links is not "link"',
    "compensation_reachable": "a normal edge into a compensation node (it is reached only "
    "through its compensate edge)",
    "compensation_shared": "two steps name one compensation node",
    "compensation_multiple": "a step with more than one compensate edge",
    "compensation_has_edges": "an edge other than error out of a compensation node",
    "compensation_nested": "a compensate edge out of a compensation node",
    "compensation_type": "a compensation node that is a trigger, flow.fail or flow.rollback",
}

# jsonschema keywords -> our codes.
_KEYWORD_CODES = {
    "required": "required",
    "type": "invalid_type",
    "additionalProperties": "unknown_field",
    "unevaluatedProperties": "unknown_field",
    "enum": "invalid_choice",
    "const": "invalid_choice",
    "minimum": "out_of_range",
    "maximum": "out_of_range",
    "exclusiveMinimum": "out_of_range",
    "exclusiveMaximum": "out_of_range",
    "minLength": "out_of_range",
    "maxLength": "out_of_range",
    "minItems": "out_of_range",
    "maxItems": "out_of_range",
    "minProperties": "out_of_range",
    "maxProperties": "out_of_range",
    "pattern": "invalid_format",
    "format": "invalid_format",
}

_NUMBER = {"type": "number"}
GRAPH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "nodes", "edges"],
    "additionalProperties": False,
    "properties": {
        "format": {"type": "integer"},
        "nodes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string"},
                    "label": {"type": "string", "maxLength": 200},
                    "description": {"type": "string", "maxLength": 5000},
                    "position": {
                        "type": "object",
                        "required": ["x", "y"],
                        "additionalProperties": False,
                        "properties": {"x": _NUMBER, "y": _NUMBER},
                    },
                    "config": {"type": "object"},
                    "retry": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100},
                            "backoff_s": {"type": "number", "minimum": 0, "maximum": 86_400},
                            "backoff_factor": {"type": "number", "minimum": 1, "maximum": 10},
                            "max_backoff_s": {"type": "number", "minimum": 0, "maximum": 604_800},
                            "jitter": {"type": "boolean"},
                        },
                    },
                    "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 604_800},
                    "join": {"enum": list(JOINS)},
                },
            },
        },
        "edges": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "source", "target"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1, "maxLength": 128},
                    "source": {"type": "string"},
                    "target": {"type": "string"},
                    "source_handle": {"type": "string", "minLength": 1, "maxLength": 64},
                    "label": {"type": "string", "maxLength": 200},
                },
            },
        },
        "input_schema": {"type": "object"},
        "output": {"type": "object"},
        # The workflow's run priority (engine/priority.py); normal when left out.
        "priority": {"enum": ["low", "normal", "high", "urgent"]},
    },
}


# --- Formats: a templated string is checked when it is rendered, not here ---------------------
FORMAT_CHECKER = FormatChecker(formats=())


def _format(name: str):
    def register(check):
        def checker(value: object) -> bool:
            if not isinstance(value, str) or is_template(value):
                return True
            return check(value)

        FORMAT_CHECKER.checks(name)(checker)
        return check

    return register


@_format("uri")
def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "http://[::1/x": an unclosed IPv6 literal
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@_format("email")
def _is_email(value: str) -> bool:
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None


@_format("date-time")
def _is_date_time(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None  # a time without a zone is ambiguous


@_format("cron")
def _is_cron(value: str) -> bool:
    return len(value.split()) == 5 and croniter.is_valid(value)


@_format("timezone")
def _is_timezone(value: str) -> bool:
    return value in _time_zones()


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


_GRAPH_VALIDATOR = Draft202012Validator(GRAPH_SCHEMA)


@lru_cache(maxsize=256)
def _config_validator(step_type: type[StepTypeSpec]) -> Draft202012Validator:
    return Draft202012Validator(step_type.config_schema, format_checker=FORMAT_CHECKER)


# --- Errors ----------------------------------------------------------------------------------
def error(
    code: str,
    message: str,
    *,
    node: str | None = None,
    edge: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    assert code in CODES, code
    return {"node": node, "edge": edge, "field": field, "code": code, "message": message}


def _dotted(parts: Iterable[Any]) -> str:
    return ".".join(str(part) for part in parts)


def _schema_errors(
    validator: Draft202012Validator,
    instance: Any,
    prefix: str,
    where: dict[str, str | None],
) -> Iterator[dict[str, Any]]:
    """jsonschema's errors as ours, one per missing or unknown field."""
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        err = _most_specific(err)
        path = [prefix, *err.absolute_path] if prefix else list(err.absolute_path)
        code = _KEYWORD_CODES.get(err.validator, "invalid")
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in err.validator_value:
                if name not in err.instance:
                    field = _dotted([*path, name])
                    yield error("required", f"{field} is required", field=field, **where)
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = set(err.schema.get("properties", {}))
            for name in sorted(set(err.instance) - known, key=str):
                field = _dotted([*path, name])
                yield error("unknown_field", f"{field} is not a known field", field=field, **where)
        else:
            field = _dotted(path) or None
            yield error(code, f"{field or 'graph'}: {err.message}", field=field, **where)


def _most_specific(err: ValidationError) -> ValidationError:
    """For anyOf/oneOf, the branch's own error when exactly one branch had the value's type.

    ``due_in_s: 30`` against anyOf [integer >= 60, "{{ template }}"] is then "30 is less than
    the minimum of 60" (out_of_range), not "not valid under any of the given schemas".
    """
    if err.validator not in ("anyOf", "oneOf") or not err.context:
        return err
    by_branch: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in err.context:
        by_branch[sub.relative_schema_path[0] if sub.relative_schema_path else None].append(sub)
    typed = [subs for subs in by_branch.values() if all(s.validator != "type" for s in subs)]
    if len(typed) == 1 and len(typed[0]) == 1:
        return _most_specific(typed[0][0])
    return err


# --- The graph --------------------------------------------------------------------------------
def validate_graph(graph: Any, step_catalog: StepCatalog = catalog) -> list[dict[str, Any]]:
    """Every violation of the contract's rules in ``graph``; an empty list means valid."""
    if not isinstance(graph, dict):
        return [error("invalid_type", "a graph is a JSON object", field=None)]
    raw_nodes = graph.get("nodes")
    if isinstance(raw_nodes, list) and len(raw_nodes) > MAX_NODES:
        return [
            error(
                "too_many_nodes",
                f"a graph has at most {MAX_NODES} nodes; this one has {len(raw_nodes)}",
                field="nodes",
            )
        ]
    return list(_Checker(graph, step_catalog).run())


class _Checker:
    def __init__(self, graph: dict, step_catalog: StepCatalog) -> None:
        self.graph = graph
        self.catalog = step_catalog
        raw_nodes = graph.get("nodes")
        raw_edges = graph.get("edges")
        self.raw_nodes = raw_nodes if isinstance(raw_nodes, list) else []
        self.raw_edges = raw_edges if isinstance(raw_edges, list) else []
        self.nodes: dict[str, dict] = {}  # id -> node, for nodes with a usable unique id
        self.types: dict[str, type[StepTypeSpec]] = {}  # id -> step type, when known
        self.edges: list[dict] = []  # edges whose ends and handle exist
        self.upstream: dict[str, set[str]] = {}
        self.compensation_nodes: set[str] = set()  # targets of compensate edges

    def run(self) -> Iterator[dict[str, Any]]:
        yield from self.check_structure()
        yield from self.check_nodes()
        yield from self.check_edges()
        yield from self.check_triggers()
        yield from self.check_compensations()
        yield from self.check_cycles_and_reachability()
        yield from self.check_input_schema()
        yield from self.check_configs()
        yield from self.check_output()

    @staticmethod
    def id_at(items: list, index: int) -> str | None:
        """The string id of items[index] (a node or an edge), if it has one."""
        if index < len(items):
            item = items[index]
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                return item["id"]
        return None

    def check_structure(self) -> Iterator[dict[str, Any]]:
        fmt = self.graph.get("format")
        # 2.0 is an integer to JSON Schema, so compare numbers, not only ints.
        if _is_number(fmt) and fmt != FORMAT_VERSION:
            yield error(
                "unsupported_format",
                f"graph format {fmt} is not supported; this version reads format {FORMAT_VERSION}",
                field="format",
            )
        for err in _schema_errors(_GRAPH_VALIDATOR, self.graph, "", {}):
            # Point at the node or edge the error is inside: nodes.3.retry -> node, "retry".
            parts = (err["field"] or "").split(".")
            if len(parts) >= 2 and parts[0] in ("nodes", "edges") and parts[1].isdigit():
                index = int(parts[1])
                items = self.raw_nodes if parts[0] == "nodes" else self.raw_edges
                ident = self.id_at(items, index)
                if ident is not None:
                    err[parts[0][:-1]] = ident
                    rest = _dotted(parts[2:])
                    err["field"] = rest or None
                    err["message"] = err["message"].replace(f"{parts[0]}.{index}.", "", 1)
            yield err

    def check_nodes(self) -> Iterator[dict[str, Any]]:
        for node in self.raw_nodes:
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                continue  # reported by the structure check
            node_id = node["id"]
            if not NODE_ID.fullmatch(node_id):
                yield error(
                    "invalid_id",
                    f"node id {node_id!r} must match [a-z][a-z0-9_]{{0,63}}",
                    node=node_id,
                    field="id",
                )
                continue
            if node_id in self.nodes:
                yield error(
                    "duplicate_id",
                    f"node id {node_id!r} is used by more than one node",
                    node=node_id,
                    field="id",
                )
                continue
            self.nodes[node_id] = node
            type_name = node.get("type")
            if not isinstance(type_name, str):
                continue
            step_type = self.catalog.get(type_name)
            if step_type is None:
                yield error(
                    "unknown_step_type",
                    f"{type_name!r} is not a step type (GET /api/step-types/ lists them)",
                    node=node_id,
                    field="type",
                )
                continue
            self.types[node_id] = step_type
            retry = node.get("retry")
            if isinstance(retry, dict):
                low, high = retry.get("backoff_s"), retry.get("max_backoff_s")
                if _is_number(low) and _is_number(high) and high < low:
                    yield error(
                        "out_of_range",
                        f"retry.max_backoff_s ({high}) is below retry.backoff_s ({low})",
                        node=node_id,
                        field="retry.max_backoff_s",
                    )

    def check_edges(self) -> Iterator[dict[str, Any]]:
        seen_ids: set[str] = set()
        seen_links: set[tuple[str, str, str]] = set()
        for edge in self.raw_edges:
            if not isinstance(edge, dict):
                continue
            edge_id = edge.get("id") if isinstance(edge.get("id"), str) else None
            if edge_id is not None:
                if edge_id in seen_ids:
                    yield error(
                        "duplicate_id",
                        f"edge id {edge_id!r} is used by more than one edge",
                        edge=edge_id,
                        field="id",
                    )
                seen_ids.add(edge_id)
            source, target = edge.get("source"), edge.get("target")
            handle = edge.get("source_handle", DEFAULT_HANDLE)
            if not all(isinstance(v, str) for v in (source, target, handle)):
                continue  # reported by the structure check
            ends_exist = True
            for field, end in (("source", source), ("target", target)):
                if end not in self.nodes:
                    ends_exist = False
                    yield error(
                        "unknown_node",
                        f"edge {field} {end!r} is not a node of this graph",
                        edge=edge_id,
                        field=field,
                    )
            if not ends_exist:
                continue
            step_type = self.types.get(source)
            if step_type is not None:
                handles = handles_of(step_type, self.nodes[source].get("config", {}))
                if handle not in handles and handle != COMPENSATE_HANDLE:
                    have = ", ".join(handles) or "none"
                    yield error(
                        "unknown_handle",
                        f"{source!r} ({step_type.type_name}) has no handle {handle!r}; "
                        f"its handles: {have}",
                        node=source,
                        edge=edge_id,
                        field="source_handle",
                    )
                    continue
            link = (source, handle, target)
            if link in seen_links:
                yield error(
                    "duplicate_edge",
                    f"an edge from {source!r} ({handle}) to {target!r} exists already",
                    edge=edge_id,
                    field=None,
                )
                continue
            seen_links.add(link)
            self.edges.append({"id": edge_id, "source": source, "target": target, "handle": handle})

    def check_triggers(self) -> Iterator[dict[str, Any]]:
        triggers = [nid for nid, t in self.types.items() if t.is_trigger]
        self.triggers = triggers
        # With nodes of unknown types only, those errors say enough.
        if not triggers and (self.types or not self.raw_nodes):
            yield error("no_trigger", "a workflow needs exactly one trigger node", field="nodes")
        for extra in triggers[1:]:
            yield error(
                "multiple_triggers",
                f"a workflow has exactly one trigger; {triggers[0]!r} is the first",
                node=extra,
                field="type",
            )
        trigger_set = set(triggers)
        for edge in self.edges:
            if edge["target"] in trigger_set:
                yield error(
                    "trigger_has_incoming",
                    f"trigger {edge['target']!r} cannot have incoming edges",
                    node=edge["target"],
                    edge=edge["id"],
                    field="target",
                )

    def check_compensations(self) -> Iterator[dict[str, Any]]:
        """Compensate edges (issue 20): each names the node that undoes its source."""
        named: dict[str, str] = {}  # compensation node -> the step it undoes
        having: set[str] = set()
        for edge in self.edges:
            if edge["handle"] != COMPENSATE_HANDLE:
                continue
            source, target = edge["source"], edge["target"]
            where = {"edge": edge["id"], "field": "target"}
            if source in having:
                yield error(
                    "compensation_multiple",
                    f"{source!r} has more than one compensate edge; one node undoes a step "
                    "(a flow.subworkflow may undo it in several steps)",
                    node=source,
                    edge=edge["id"],
                    field="source_handle",
                )
            having.add(source)
            if target in named and target != source:
                yield error(
                    "compensation_shared",
                    f"{target!r} is the compensation of {named[target]!r} already; "
                    f"{source!r} needs its own",
                    node=target,
                    **where,
                )
            named.setdefault(target, source)
        self.compensation_nodes = set(named)
        for edge in self.edges:
            source, target, handle = edge["source"], edge["target"], edge["handle"]
            if target in named and handle != COMPENSATE_HANDLE:
                yield error(
                    "compensation_reachable",
                    f"{target!r} is the compensation of {named[target]!r}: no other edge may "
                    f"lead to it (this one comes from {source!r})",
                    node=target,
                    edge=edge["id"],
                    field="target",
                )
            if source in named and source != target:
                if handle == COMPENSATE_HANDLE:
                    yield error(
                        "compensation_nested",
                        f"{source!r} is a compensation: it cannot have a compensation of its own",
                        node=source,
                        edge=edge["id"],
                        field="source_handle",
                    )
                elif handle != "error":
                    yield error(
                        "compensation_has_edges",
                        f"{source!r} is a compensation: only error edges may leave it",
                        node=source,
                        edge=edge["id"],
                        field="source_handle",
                    )
        for node_id in named:
            step_type = self.types.get(node_id)
            if step_type is not None and (
                step_type.is_trigger or step_type.type_name in NOT_COMPENSATIONS
            ):
                yield error(
                    "compensation_type",
                    f"{node_id!r} ({step_type.type_name}) cannot be a compensation: a "
                    "trigger, flow.fail or flow.rollback does not undo anything",
                    node=node_id,
                    field="type",
                )

    def check_cycles_and_reachability(self) -> Iterator[dict[str, Any]]:
        successors: dict[str, list[str]] = defaultdict(list)
        predecessors: dict[str, list[str]] = defaultdict(list)
        for edge in self.edges:
            successors[edge["source"]].append(edge["target"])
            predecessors[edge["target"]].append(edge["source"])
        for component in _strongly_connected(list(self.nodes), successors):
            first = component[0]
            if len(component) > 1 or first in successors.get(first, []):
                yield error(
                    "cycle",
                    "edges between these nodes form a cycle: " + ", ".join(component),
                    node=first,
                    field=None,
                )
        # Upstream sets, for steps.<id> references (terminates on cycles too: visited sets).
        for node_id in self.nodes:
            self.upstream[node_id] = _reach(node_id, predecessors)
        if len(self.triggers) >= 1:
            reachable = {self.triggers[0]} | _reach(self.triggers[0], successors)
            for node_id in self.nodes:
                if node_id not in reachable and node_id not in self.triggers:
                    yield error(
                        "unreachable",
                        f"{node_id!r} cannot be reached from the trigger {self.triggers[0]!r}",
                        node=node_id,
                        field=None,
                    )

    def check_input_schema(self) -> Iterator[dict[str, Any]]:
        schema = self.graph.get("input_schema")
        self.input_fields: frozenset[str] | None = None
        if not isinstance(schema, dict):
            return
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            yield error(
                "invalid_input_schema",
                f"input_schema is not a valid JSON Schema: {exc.message}",
                field="input_schema" + ("." + _dotted(exc.path) if exc.path else ""),
            )
            return
        if schema.get("type", "object") != "object":
            yield error(
                "invalid_input_schema",
                "input_schema must describe an object (a run's input is a JSON object)",
                field="input_schema.type",
            )
            return
        yield from self.check_examples(schema)
        properties = schema.get("properties")
        # Names are checked where the schema lists them, unless it explicitly allows others.
        if isinstance(properties, dict) and properties and not _allows_more(schema):
            self.input_fields = frozenset(properties)

    def check_examples(self, schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """JSON Schema's ``examples``: the sample inputs the Run form offers. Each must be an
        input a run would accept (checked as a run's input is), or the form offers a run
        that fails at once."""
        examples = schema.get("examples")
        if not isinstance(examples, list):
            return  # not there (check_schema has refused a non-list)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for index, sample in enumerate(examples[:20]):
            problems = sorted(validator.iter_errors(sample), key=lambda e: list(e.absolute_path))
            for problem in problems[:5]:
                yield error(
                    "invalid_example",
                    f"sample input {index + 1} does not fit input_schema: {problem.message}",
                    field=_dotted(["input_schema", "examples", index, *problem.absolute_path]),
                )

    def check_configs(self) -> Iterator[dict[str, Any]]:
        for node_id, step_type in self.types.items():
            node = self.nodes[node_id]
            config = node.get("config", {})
            if not isinstance(config, dict):
                continue  # reported by the structure check
            yield from _schema_errors(
                _config_validator(step_type), config, "config", {"node": node_id}
            )
            problems = getattr(step_type, "config_problems", None)
            for field, code, message in problems(config) if problems else ():
                yield error(code, message, node=node_id, field=field)
            for path, text in _strings(config):
                field = _dotted(["config", *path])
                bare = _matches(path, step_type.expression_fields)
                with_items = _matches(path, step_type.item_fields, prefix=True)
                yield from self.check_text(
                    text, bare=bare, node=node_id, field=field, item_names=with_items
                )

    def check_output(self) -> Iterator[dict[str, Any]]:
        output = self.graph.get("output")
        if not isinstance(output, dict):
            return
        for path, text in _strings(output):
            # The output is rendered when the run ends: every step may be named.
            yield from self.check_text(
                text, bare=False, node=None, field=_dotted(["output", *path]), item_names=False
            )

    def check_text(
        self, text: str, *, bare: bool, node: str | None, field: str, item_names: bool
    ) -> Iterator[dict[str, Any]]:
        if not bare and not is_template(text):
            return
        try:
            analysis = analyse_expression(text) if bare else analyse_template(text)
        except TemplateError as exc:
            kind = "expression" if bare else "template"
            yield error(
                "expression_syntax",
                f"{kind} {text!r} does not compile: {exc.message}",
                node=node,
                field=field,
            )
            return
        except (RecursionError, ValueError, OverflowError, MemoryError) as exc:
            # Jinja's lexer and parser raise these on pathological input (a 5,000-digit number
            # exceeds Python's int conversion limit; deep nesting exhausts the stack).
            kind = "expression" if bare else "template"
            yield error(
                "expression_syntax",
                f"{kind} cannot be compiled: {type(exc).__name__}",
                node=node,
                field=field,
            )
            return
        for name in sorted(set(analysis.private_names)):
            why = "names starting with _" if name.startswith("_") else "internals like this"
            yield error(
                "forbidden_attribute",
                f"{name!r} in {text!r}: {why} are not allowed",
                node=node,
                field=field,
            )
        for limit in analysis.limits:
            yield error(
                "expression_limit",
                f"{text!r} goes past a limit of expressions: {limit}",
                node=node,
                field=field,
            )
        allowed = ROOT_NAMES | ITEM_NAMES if item_names else ROOT_NAMES
        if node in self.compensation_nodes:
            allowed = allowed | {"compensating"}  # the step it undoes: node, input, output
        for name in sorted(analysis.free_names - allowed):
            yield error(
                "unknown_name",
                f"{name!r} is not defined in {text!r}; use input, steps.<id> or run"
                + (", item, index" if item_names else ""),
                node=node,
                field=field,
            )
        for path in analysis.paths:
            yield from self.check_path(path, text, node=node, field=field)

    def check_path(
        self, path: tuple, text: str, *, node: str | None, field: str
    ) -> Iterator[dict[str, Any]]:
        where = {"node": node, "field": field}
        if any(isinstance(part, str) and part.startswith("_") for part in path[1:]):
            return  # reported as forbidden_attribute
        root = path[0]
        if root == "steps" and len(path) >= 2:
            step = path[1]
            if step not in self.nodes:
                yield error("unknown_step", f"steps.{step} in {text!r} names no node", **where)
                return
            if node is not None and step not in self.upstream.get(node, set()):
                yield error(
                    "not_upstream",
                    f"steps.{step} in {text!r}: {step!r} does not run before {node!r}",
                    **where,
                )
            if len(path) >= 3 and path[2] not in STEP_FIELDS:
                yield error(
                    "unknown_step_field",
                    f"steps.{step}.{path[2]} in {text!r}: a step has "
                    + ", ".join(sorted(STEP_FIELDS)),
                    **where,
                )
        elif (
            root == "input"
            and len(path) >= 2
            and self.input_fields is not None
            and path[1] not in self.input_fields
        ):
            declared = ", ".join(sorted(self.input_fields))
            yield error(
                "unknown_input_field",
                f"input.{path[1]} in {text!r} is not in input_schema ({declared})",
                **where,
            )


# --- Helpers ----------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _allows_more(schema: dict) -> bool:
    """Does input_schema explicitly allow names beyond its properties? (The JSON Schema default
    allows them, but a typo in input.<name> is far more likely than an undeclared field.)"""
    extra = schema.get("additionalProperties", False)
    return extra not in (False, None) or bool(schema.get("patternProperties"))


def _strings(value: Any) -> Iterator[tuple[tuple, str]]:
    """Every string inside a JSON value, with its path (iterative: no depth limit)."""
    stack: list[tuple[tuple, Any]] = [((), value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            yield path, current
        elif isinstance(current, dict):
            stack.extend(((*path, key), item) for key, item in reversed(current.items()))
        elif isinstance(current, list):
            stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(current))))


def _matches(path: tuple, patterns: Iterable[str], prefix: bool = False) -> bool:
    """Does the config path match a dotted pattern (``*`` = any key or index)?"""
    for pattern in patterns:
        parts = pattern.split(".")
        if len(path) < len(parts) or (not prefix and len(path) != len(parts)):
            continue
        if all(p == "*" or p == str(q) for p, q in zip(parts, path, strict=False)):
            return True
    return False


def _reach(start: str, links: dict[str, list[str]]) -> set[str]:
    """Nodes reachable from start (start itself only through a cycle)."""
    seen: set[str] = set()
    queue = deque(links.get(start, []))
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        queue.extend(links.get(current, []))
    return seen


def _strongly_connected(vertices: list[str], successors: dict[str, list[str]]) -> list[list]:
    """Tarjan's algorithm, iterative (graphs of 2,000 nodes would overflow recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in vertices:
        if root in index:
            continue
        work = [(root, iter(successors.get(root, [])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            vertex, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, []))))
                    advanced = True
                    break
                if child in on_stack:
                    low[vertex] = min(low[vertex], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[vertex])
            if low[vertex] == index[vertex]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == vertex:
                        break
                components.append(sorted(component))
    return components


__all__ = [
    "CODES",
    "FORMAT_VERSION",
    "MAX_GRAPH_BYTES",
    "MAX_NODES",
    "ValidationError",
    "error",
    "validate_graph",
]
