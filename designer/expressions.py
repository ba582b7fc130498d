"""The expression language (CONTRACT §2): Jinja2's sandbox, and what an expression refers to.

The designer checks expressions when a graph is saved; the engine evaluates them with this same
environment, so "it validated" and "it runs" mean the same language.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, meta, nodes
from jinja2.exceptions import TemplateError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment


class _Environment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, where ``x.name`` on a JSON object means its key ``name``
    when it has one: Jinja looks up attributes first, so ``input.items`` would otherwise be
    the dict method, not the run's ``items`` field."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


# Immutable: an expression cannot mutate lists or dicts it was given (append, update, ...).
# StrictUndefined: a missing name is an error, never an empty string.
ENV = _Environment(undefined=StrictUndefined, autoescape=False)

ROOT_NAMES = frozenset({"input", "steps", "run"})
ITEM_NAMES = frozenset({"item", "index"})
STEP_FIELDS = frozenset({"output", "status", "error"})

TEMPLATE_MARKERS = ("{{", "{%", "{#")


def is_template(text: str) -> bool:
    return any(marker in text for marker in TEMPLATE_MARKERS)


@dataclass(frozen=True)
class Analysis:
    """What a piece of expression language refers to."""

    free_names: frozenset[str]
    # Attribute paths from a root name, as far as they are static: steps.pay.output.status
    # is ("steps", "pay", "output", "status"); steps[x] stops at ("steps",).
    paths: tuple[tuple[str | int, ...], ...]
    # Attribute or key names starting with "_" anywhere (on names, literals, filter results):
    # the sandbox refuses them at run time, so validation refuses them first.
    private_names: tuple[str, ...] = ()


@lru_cache(maxsize=4096)
def analyse_expression(source: str) -> Analysis:
    """Parse and compile a bare expression; raises jinja2's TemplateError when it is not one."""
    parser = Parser(ENV, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        token = parser.stream.current
        raise parser.fail(f"unexpected {token.value!r} after the expression", token.lineno)
    ENV.compile_expression(source)  # filters and tests are checked when compiling
    template = nodes.Template([nodes.Output([expr], lineno=1)], lineno=1)
    template.set_environment(ENV)
    return _analyse(template)


@lru_cache(maxsize=4096)
def analyse_template(source: str) -> Analysis:
    """Parse and compile a template; raises jinja2's TemplateError when it is not one."""
    ast = ENV.parse(source)
    ENV.compile(ast)
    return _analyse(ast)


def _analyse(ast: nodes.Template) -> Analysis:
    free = frozenset(meta.find_undeclared_variables(ast))
    paths: list[tuple[str | int, ...]] = []
    _collect_paths(ast, free, paths)
    private = [n.attr for n in ast.find_all(nodes.Getattr) if n.attr.startswith("_")]
    private += [
        n.arg.value
        for n in ast.find_all(nodes.Getitem)
        if isinstance(n.arg, nodes.Const)
        and isinstance(n.arg.value, str)
        and n.arg.value.startswith("_")
    ]
    return Analysis(free_names=free, paths=tuple(paths), private_names=tuple(private))


def _flatten(node: nodes.Node) -> tuple[str | int, ...] | None:
    """(root, attr, ...) for a chain of static attribute/item lookups on a name, else None."""
    trail: list[str | int] = []
    while True:
        if isinstance(node, nodes.Getattr):
            trail.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int):
                trail.append(node.arg.value)
            else:
                trail.clear()  # dynamic key: only the part before it is known
            node = node.node
        elif isinstance(node, nodes.Name):
            return (node.name, *reversed(trail))
        else:
            return None


def _collect_paths(node: nodes.Node, free: frozenset[str], out: list) -> None:
    if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
        path = _flatten(node)
        if path is not None and path[0] in free:
            out.append(path)
            # Still look inside dynamic keys: steps[input.which] refers to input.which.
            for child in node.find_all(nodes.Getitem):
                if not isinstance(child.arg, nodes.Const):
                    _collect_paths(child.arg, free, out)
            return
    for child in node.iter_child_nodes():
        _collect_paths(child, free, out)


__all__ = [
    "ENV",
    "ITEM_NAMES",
    "ROOT_NAMES",
    "STEP_FIELDS",
    "Analysis",
    "TemplateError",
    "analyse_expression",
    "analyse_template",
    "is_template",
]
