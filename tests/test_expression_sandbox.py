"""Escaping the expression sandbox (issue 10, item 6): attribute walks to Python's internals,
format-string tricks, huge ranges, numbers and strings, deep recursion and endless loops. Each
is refused when the graph is saved (400 naming the node and the field), or stopped while it
runs with an error naming the node, the field and the limit: never a hung worker, never a
worker out of memory.

Each attempt runs in this process under a memory ceiling (1 GiB more than the process holds)
and pytest-timeout's thread method: an attempt that the bounds stop to hold fails the test,
rather than the machine."""

import resource
from pathlib import Path
from typing import Any

import pytest

from designer.validation import validate_graph
from engine.expressions import ExpressionError, evaluate, render
from tests.engine_kit import build, drive, start, steps, workflow

# A hang stops the whole run (thread method) rather than the CI's 90 minutes.
pytestmark = pytest.mark.timeout(120, method="thread")

INPUT = {
    "s": "x",
    "n": 10**7,
    "big_n": 10**10,
    "items": list(range(1000)),
    "text": "y" * 100_000,
    "lines": "a\n" * 10_000,
}
SCOPE = {"input": INPUT, "steps": {}, "run": {"id": 1, "workflow": 1, "trigger": "api"}}

REFUSED = "refused"  # a runtime error that is not a limit: the sandbox said no
LIMIT = "limit"  # a runtime error past one of the limits


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def chain(levels: int) -> str:
    """A value shared ten times per level: its weight is 10**levels kilobytes."""
    parts = ["{% set v0 = [input.s * 1000] %}"]
    for level in range(1, levels + 1):
        prev = f"v{level - 1}"
        parts.append(f"{{% set v{level} = [{', '.join([prev] * 10)}] %}}")
    return "".join(parts) + f"{{{{ v{levels}|length }}}}"


# (name, bare expression or template, what validation says (an error code, or None when the
# graph saves), what the run says, a piece of the run's message).
ATTEMPTS = [
    # Attribute walks to Python's internals.
    ("dunder class", "b", "input.__class__", "forbidden_attribute", REFUSED, "unsafe"),
    (
        "subclasses walk",
        "b",
        "input.s.__class__.__mro__[1].__subclasses__()",
        "forbidden_attribute",
        REFUSED,
        "unsafe",
    ),
    (
        "globals",
        "t",
        "{{ input.items.__globals__ }}",
        "forbidden_attribute",
        REFUSED,
        "__globals__",
    ),
    ("builtins", "b", "input['__builtins__']", "forbidden_attribute", REFUSED, ""),
    ("mro", "b", "input.s.mro()", "forbidden_attribute", REFUSED, ""),
    ("func_globals", "b", "input.f.func_globals", "forbidden_attribute", REFUSED, ""),
    ("gi_frame", "b", "input.g.gi_frame", "forbidden_attribute", REFUSED, ""),
    (
        "cycler globals",
        "t",
        "{{ cycler.__init__.__globals__ }}",
        "forbidden_attribute",
        REFUSED,
        "",
    ),
    ("joiner", "t", "{{ joiner().__init__.__globals__ }}", "forbidden_attribute", REFUSED, ""),
    ("namespace", "t", "{% set ns = namespace(a=1) %}{{ ns.a }}", "unknown_name", REFUSED, ""),
    (
        "lipsum globals",
        "t",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "forbidden_attribute",
        REFUSED,
        "",
    ),
    (
        "template reference",
        "t",
        "{{ self._TemplateReference__context }}",
        "forbidden_attribute",
        REFUSED,
        "",
    ),
    # Format-string tricks: the attribute walk hides in a string constant.
    ("format walk", "b", "'{0.__class__}'.format(input)", None, REFUSED, "unsafe"),
    ("format_map walk", "b", "'{s.__class__}'.format_map(input)", None, REFUSED, "unsafe"),
    ("format_map key", "b", "'{nope}'.format_map(input)", None, REFUSED, "nope"),
    ("percent walk", "b", "'%s' % input.s.__class__", "forbidden_attribute", REFUSED, ""),
    ("format width", "b", "'{:>999999999}'.format(1)", None, LIMIT, "format width"),
    ("percent width", "b", "'%999999999d' % 1", "expression_limit", LIMIT, "format width"),
    ("percent star", "b", "'%*d' % (999999999, 1)", "expression_limit", LIMIT, "format width"),
    ("format filter", "b", "'%999999999s'|format(1)", None, LIMIT, "format width"),
    ("escaped format", "b", "('{:>999999999}'|e).format(1)", None, LIMIT, "format width"),
    # Huge ranges and loops.
    ("huge range", "b", "range(10**9)|length", "expression_limit", LIMIT, "range of more than"),
    (
        "for over huge ranges",
        "t",
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        None,
        LIMIT,
        "loop iterations",
    ),
    (
        "nested loops over the input",
        "t",
        "{% for a in input.items %}{% for b in input.items %}{% for c in input.items %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        None,
        LIMIT,
        "loop iterations",
    ),
    # Exponentiation.
    ("power tower", "b", "9**(9**9)", "expression_limit", LIMIT, "bits"),
    ("ten to ten million", "b", "10**10000000", "expression_limit", LIMIT, "bits"),
    ("power of the input", "b", "input.n ** input.n", None, LIMIT, "bits"),
    # String and list multiplication.
    ("string times 10**10", "b", "'a' * 10**10", "expression_limit", LIMIT, "repetition"),
    ("input string times", "b", "input.s * input.big_n", None, LIMIT, "repetition"),
    ("list times", "b", "[input.s] * input.big_n", None, LIMIT, "repetition"),
    ("times twice", "b", "(input.text * 150) * 10", None, LIMIT, "repetition"),
    ("escaped text times", "b", "(input.text|e) * 1000", None, LIMIT, "repetition"),
    ("shared ten times a level", "t", chain(6), None, LIMIT, "bigger than"),
    ("centre", "b", "input.s|center(10**9)", None, LIMIT, "center"),
    ("ljust", "b", "input.s.ljust(10**9)", None, LIMIT, "ljust"),
    ("indent", "b", "input.lines|indent(10**4)", None, LIMIT, "indent"),
    ("to_bytes", "b", "(1).to_bytes(10**9, 'big')", None, LIMIT, "to_bytes"),
    ("replace", "b", "input.text.replace('y', input.text)", None, LIMIT, "replace"),
    ("batch filler", "b", "[1]|batch(10**9, 0)|list", None, LIMIT, "batch"),
    # Work in one call that no step count can interrupt.
    (
        "punycode",
        "b",
        "(input.text|list|join('')).encode('punycode')",
        None,
        REFUSED,
        "codec 'punycode'",
    ),
    ("unique of millions", "b", "(input.text * 20)|list|unique|list", None, LIMIT, "unique"),
    ("wordwrap of megabytes", "b", "(input.text * 20)|wordwrap(5)", None, LIMIT, "wordwrap"),
    # Recursion and nesting.
    (
        "macro recursion",
        "t",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        None,
        LIMIT,
        "recursive",
    ),
    (
        "exponential macros",
        "t",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(60) }}",
        None,
        LIMIT,
        "",
    ),
    (
        "recursive loop",
        "t",
        "{% for x in input.items recursive %}{{ loop(input.items) }}{% endfor %}",
        None,
        LIMIT,
        "",
    ),
    ("deeply nested list", "b", nested(5000), "expression_syntax", LIMIT, "recursive"),
    # Output.
    (
        "huge output",
        "t",
        "{% for i in input.items %}{{ input.text }}{{ input.text }}{% endfor %}",
        None,
        LIMIT,
        "output of more than",
    ),
]


@pytest.fixture
def memory_ceiling():
    """At most 1 GiB more address space than the process has now, for the test's duration."""
    pages = int(Path("/proc/self/statm").read_text().split()[0])
    ceiling = pages * resource.getpagesize() + 2**30
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def graph_with(kind: str, source: str) -> dict[str, Any]:
    """``start > check``: a logic.condition for a bare expression, a data.transform for a
    template."""
    if kind == "b":
        node = ("logic.condition", {"expression": source})
    else:
        node = ("data.transform", {"value": source})
    schema = {"type": "object", "additionalProperties": True}
    return build(
        {"start": ("trigger.manual",), "check": node}, ["start>check"], input_schema=schema
    )


def run_it(kind: str, source: str) -> Any:
    if kind == "b":
        return evaluate(source, SCOPE, "config.expression")
    return render(source, SCOPE, "config.value")


@pytest.mark.parametrize(
    ("kind", "source", "at_save", "at_run", "says"),
    [pytest.param(*rest, id=name) for name, *rest in ATTEMPTS],
)
def test_an_escape_attempt_is_refused_at_save_or_stopped_while_it_runs(
    kind, source, at_save, at_run, says, memory_ceiling
):
    field = "config.expression" if kind == "b" else "config.value"

    errors = validate_graph(graph_with(kind, source))

    if at_save is None:
        assert errors == []
    else:
        assert at_save in [e["code"] for e in errors], errors
        assert all(e["node"] == "check" and e["field"] == field for e in errors), errors

    with pytest.raises(ExpressionError) as caught:
        run_it(kind, source)
    error = caught.value
    assert error.field == field
    assert error.code == ("expression_limit" if at_run == LIMIT else "expression_error")
    assert says in str(error)
    assert "out of memory" not in str(error)  # stopped by a bound, not by the ceiling


@pytest.mark.parametrize(
    ("kind", "source", "value"),
    [
        ("b", "'%05.1f' % 3.14159", "003.1"),
        ("b", "'{:>4}|{:<3}|'.format(input.s, 7)", "   x|7  |"),
        ("b", "('<b>{}</b>'|safe).format('<i>')", "<b>&lt;i&gt;</b>"),
        ("b", "input.items|map('string')|join('')|length", 2890),
        ("b", "(input.text * 100)|length", 10_000_000),
        ("b", "2 ** 10000 > 10", True),
        ("b", "[input.s] * 3 + ['y']", ["x", "x", "x", "y"]),
        ("b", "input.s.encode('utf-8')|length", 1),
        ("b", "input.items[:5]|unique|list", [0, 1, 2, 3, 4]),
        ("t", "{% for i in input.items %}{{ i % 10 }}{% endfor %}", "0123456789" * 100),
        ("t", "{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}{{ twice(input.s) }}", "xx"),
        ("t", "{{ input.s ~ '-' ~ run.id }}", "x-1"),
        ("t", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }};{% endfor %}", "3;7;"),
    ],
)
def test_ordinary_expressions_keep_working_within_the_bounds(kind, source, value):
    assert run_it(kind, source) == value


def test_a_limit_hit_by_a_run_fails_the_step_naming_node_field_and_limit(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "shape": ("data.transform", {"value": {"blob": "{{ input.s * input.big_n }}"}}),
        },
        ["start>shape"],
        input_schema={"type": "object", "additionalProperties": True},
    )
    run = start(workflow(alice, graph), {"s": "x", "big_n": 10**10})

    drive()

    shape = steps(run)["shape"]
    assert shape.status == "failed"
    assert shape.error["code"] == "expression_limit"
    assert shape.error["field"] == "config.value.blob"
    assert shape.error["retryable"] is False
    assert shape.error["message"].startswith("node shape: config.value.blob:")
    assert "repetition of more than 20,000,000" in shape.error["message"]
    run.refresh_from_db()
    assert run.status == "failed"


def test_saving_constants_past_a_limit_is_a_400_naming_node_and_field(api, alice):
    api.force_authenticate(alice)
    graph = graph_with("b", "10**10000000 > 1")

    response = api.post("/api/workflows/", {"name": "big", "graph": graph}, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "expression_limit"
    assert (error["node"], error["field"]) == ("check", "config.expression")
    assert "14,000 bits" in error["message"]
