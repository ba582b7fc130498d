"""The expression language (CONTRACT §2): Jinja2's sandbox, and what an expression refers to.

The designer checks expressions when a graph is saved; the engine evaluates them with this same
environment, so "it validated" and "it runs" mean the same language.
"""

import contextlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import TemplateError
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import (
    MAX_RANGE,
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
    SandboxedFormatter,
    SecurityError,
    safe_range,
)
from jinja2.utils import _PassArg, pass_context
from markupsafe import EscapeFormatter, Markup

# --- Limits -------------------------------------------------------------------------------------
# Jinja's sandbox stops attribute walks (``__class__``, ``__globals__``, ``mro``, ``gi_frame``,
# ...) and ranges over 100,000 items; it does not stop an expression from computing something
# huge or spinning. These bound every evaluation (one expression, or one template) in memory and
# in time, and an evaluation past one fails with ExpressionLimitError, naming the limit.

# Characters of a string, or weight of a value (items, nested, counted with repetition), that
# any one operation may make, and of a template's output: twice the largest webhook body
# (10 MiB), so that a run's whole input still passes through an expression.
MAX_SIZE = 20_000_000
# Bits of an integer an operation may make (``9**(9**9)`` has 1.2 billion); Python prints at
# most 4,300 digits (about 14,300 bits) of an integer anyway.
MAX_INT_BITS = 14_000
# A width or precision in a format (``'%999999999d'``, ``'{:>999999999}'``).
MAX_WIDTH = 10_000
# Loop iterations, calls (macros, methods) and filters in one evaluation: a loop over 100,000
# items (the largest range) with a filter in it fits; a macro calling itself twice does not.
MAX_STEPS = 250_000
# Wall-clock time one evaluation may take, checked at every 64th step (for steps that are each
# slow, say a replace() over 10 MB in a loop).
MAX_SECONDS = 2.0


class ExpressionLimitError(SecurityError):
    """An evaluation went past one of the limits above (a TemplateError, as all of the
    sandbox's refusals)."""


class _Budget:
    """The steps and the deadline of one evaluation, kept on its Jinja context (macros and
    recursive loops run with the context of the template that calls them)."""

    __slots__ = ("deadline", "steps")

    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS


def _tick(context: Context) -> None:
    budget = context.__dict__.get("_flowdeck_budget")
    if budget is None:
        budget = context.__dict__["_flowdeck_budget"] = _Budget()
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise ExpressionLimitError(f"more than {MAX_STEPS:,} loop iterations, calls and filters")
    if not budget.steps & 63 and time.monotonic() > budget.deadline:
        raise ExpressionLimitError(f"took more than {MAX_SECONDS:g} s")


def weight(value: Any, limit: int = MAX_SIZE) -> int:
    """How big ``value`` is as text or JSON, roughly (characters, items): a value shared many
    times counts each time, so ``[x] * 1000`` weighs 1,000 x. Each distinct object is walked
    once (a nested value built by repetition costs its distinct parts, not its weight), and the
    walk stops once past ``limit``."""
    seen: dict[int, int] = {}

    def walk(item: Any) -> int:
        kind = type(item)
        if kind is str or kind is bytes:
            return len(item)
        if kind is int:
            return item.bit_length() // 3 + 1
        if kind is range or isinstance(item, str | bytes):  # Markup is a str
            return len(item)
        if not isinstance(item, list | tuple | dict):
            return 1  # float, bool, None, anything else
        known = seen.get(id(item))
        if known is not None:
            return known
        total = len(item)
        for child in item.values() if isinstance(item, dict) else item:
            if type(child) is str:  # the common case, without a call
                total += len(child)
            else:
                total += walk(child)
            if total > limit:
                break
        if isinstance(item, dict):
            total += sum(walk(key) for key in item)
        seen[id(item)] = total
        return total

    try:
        return walk(value)
    except RecursionError:
        raise ExpressionLimitError("a value nested too deeply") from None


def _sized(value: Any, what: str = "a value") -> Any:
    """``value`` if its weight is within MAX_SIZE (its bits within MAX_INT_BITS)."""
    kind = type(value)  # exact types first: this runs for every output and operation
    if kind is str or kind is bytes:
        if len(value) > MAX_SIZE:
            raise ExpressionLimitError(f"{what} of more than {MAX_SIZE:,} characters")
    elif kind is int:
        if value.bit_length() > MAX_INT_BITS:
            raise ExpressionLimitError(f"an integer of more than {MAX_INT_BITS:,} bits")
    elif kind is float or kind is bool or value is None:
        pass
    elif isinstance(value, str | bytes | list | tuple | dict) and weight(value) > MAX_SIZE:
        # Subclasses (Markup from |e) and containers.
        raise ExpressionLimitError(f"{what} bigger than {MAX_SIZE:,} items and characters")
    return value


def _need(size: float, what: str) -> None:
    """Refuse before making something of ``size`` (characters, items)."""
    if size > MAX_SIZE:
        raise ExpressionLimitError(f"{what} of more than {MAX_SIZE:,} characters or items")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# printf-style conversions: %[(name)][flags][width][.precision]type
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent(text: Any, args: Any) -> None:
    """``text % args`` makes nothing wider than MAX_WIDTH, nor bigger than MAX_SIZE."""
    if not isinstance(text, str):
        return
    values = args if isinstance(args, tuple) else (args,)
    for width, precision in _PERCENT.findall(text):
        for number in (width, precision):
            if number == "*":
                if any(_number(v) and abs(v) > MAX_WIDTH for v in values):
                    raise ExpressionLimitError(f"a format width over {MAX_WIDTH:,}")
            elif number and int(number) > MAX_WIDTH:
                raise ExpressionLimitError(f"a format width over {MAX_WIDTH:,}")
    _need(len(text) + weight(args), "a formatted string")


def _check_format_spec(spec: str) -> None:
    for number in re.findall(r"\d+", spec):
        if int(number) > MAX_WIDTH:
            raise ExpressionLimitError(f"a format width over {MAX_WIDTH:,}")


class _BoundedFormatter(SandboxedFormatter):
    """``str.format`` and ``format_map`` as the sandbox has them (no ``{0.__class__}``), with
    widths and precisions within MAX_WIDTH and values within MAX_SIZE."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        _need(weight(value), "a formatted value")
        return super().format_field(value, format_spec)

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        return _sized(super().vformat(format_string, args, kwargs), "a formatted string")


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
        if abs(left) > 1 and right * (abs(left).bit_length() - 1) > MAX_INT_BITS:
            raise ExpressionLimitError(f"an integer of more than {MAX_INT_BITS:,} bits")
    elif operator == "*":
        if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
                raise ExpressionLimitError(f"an integer of more than {MAX_INT_BITS:,} bits")
            return
        sequence, times = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int):
            _need(weight(sequence) * max(times, 0), "a repetition")
    elif operator == "+" and isinstance(left, str | bytes | list | tuple):
        if isinstance(right, str | bytes | list | tuple):
            _need(weight(left) + weight(right), "a concatenation")
    elif operator == "%":
        _check_percent(left, right)


# Methods of strings, bytes and integers whose result grows with an argument.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "to_bytes"})
# Codecs that encode and decode in linear time (punycode and idna take quadratic time, and
# run as Python code our step count cannot interrupt: 20,000 characters took a minute).
_CODECS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1", "utf-16"})
# Filters that loop in Python over their whole input, with no step counted: a bound on what
# they may be given keeps each call to a fraction of a second.
_LOOPING_FILTERS = frozenset(
    {"unique", "groupby", "batch", "slice", "wordwrap", "urlize", "pprint", "xmlattr", "dictsort"}
)
MAX_LOOPED = 1_000_000


def _check_method(method: Any, args: tuple, kwargs: dict) -> tuple:
    """Refuse a call of a str, bytes or int method that would make something too big; returns
    the arguments (a generator handed to ``join`` is read into a list to be weighed)."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if not isinstance(owner, str | bytes | int) or isinstance(owner, bool):
        return args
    numbers = [a for a in (*args, *kwargs.values()) if _number(a)]
    if name in _WIDTH_METHODS and any(n > MAX_SIZE for n in numbers):
        raise ExpressionLimitError(f"{name}() of more than {MAX_SIZE:,} characters")
    if name in ("encode", "decode"):
        codec = args[0] if args else kwargs.get("encoding", "utf-8")
        if str(codec).lower().replace("_", "-") not in _CODECS:
            raise SecurityError(f"{name}() with the codec {codec!r} is not allowed")
    if name == "expandtabs" and isinstance(owner, str | bytes):
        _need(len(owner) * max([8, *numbers]), "expandtabs()")
    elif name == "replace" and isinstance(owner, str | bytes) and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, str | bytes) and isinstance(new, str | bytes):
            times = owner.count(old) if old else len(owner) + 1
            _need(len(owner) + times * (len(new) - len(old)), "replace()")
    elif name == "join" and isinstance(owner, str | bytes) and args:
        items = list(args[0])
        _need(weight(items) + len(items) * len(owner), "join()")
        args = (items, *args[1:])
    return args


# Filters whose result grows with an argument: checked before they run.
def _check_filter(name: str, value: Any, args: tuple, kwargs: dict) -> tuple[Any, tuple]:
    if name in _LOOPING_FILTERS:
        if not isinstance(value, str | list | tuple | dict):
            value = list(value)  # a generator: read it, to weigh it
        if weight(value, MAX_LOOPED) > MAX_LOOPED:
            raise ExpressionLimitError(f"{name} of more than {MAX_LOOPED:,} items or characters")
    numbers = [a for a in (*args, *kwargs.values()) if _number(a)]
    if name in ("center", "batch", "slice") and any(n > MAX_SIZE for n in numbers):
        raise ExpressionLimitError(f"{name} past {MAX_SIZE:,}")
    if name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        each = len(width) if isinstance(width, str) else width if _number(width) else 0
        lines = value.count("\n") + 1 if isinstance(value, str) else 1
        _need(weight(value) + each * lines, "indent")
    elif name == "wordwrap":
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring")
        _need(weight(value) * (1 + (len(wrap) if isinstance(wrap, str) else 1)), "wordwrap")
    elif name == "format":
        _check_percent(value, tuple(args) or kwargs)
    elif name == "replace" and len(args) >= 2 and isinstance(value, str):
        old, new = str(args[0]), str(args[1])
        times = value.count(old) if old else len(value) + 1
        _need(len(value) + times * (len(new) - len(old)), "replace")
    elif name == "join":
        value = list(value)
        joiner = args[0] if args else kwargs.get("d", "")
        _need(weight(value) + len(value) * len(str(joiner)), "join")
    elif name == "sum" and not _number(kwargs.get("start", args[1] if len(args) > 1 else 0)):
        # sum(start=[]) concatenates, in time quadratic in the number of items.
        value = list(value)
        _need(len(value) * 100, "sum with a start that is not a number")
    return value, args


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` counted against the evaluation's steps, its arguments and result checked.
    Taking the context also keeps Jinja from running the filter while compiling (it folds
    filters of constants, and ``'x'|center(10**9)`` would fill memory at a save)."""
    pass_arg = _PassArg.from_obj(func)

    @pass_context
    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        _tick(context)
        value, args = _check_filter(name, value, args, kwargs)
        if pass_arg is _PassArg.context:
            result = func(context, value, *args, **kwargs)
        elif pass_arg is _PassArg.eval_context:
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif pass_arg is _PassArg.environment:
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        return _sized(result)

    return guarded


def _guard_test(func: Callable[..., Any]) -> Callable[..., Any]:
    """Tests are cheap; guarded only so that none runs while compiling."""
    pass_arg = _PassArg.from_obj(func)

    @pass_context
    def guarded(context: Context, *args: Any, **kwargs: Any) -> Any:
        _tick(context)
        if pass_arg is _PassArg.context:
            return func(context, *args, **kwargs)
        if pass_arg is _PassArg.eval_context:
            return func(context.eval_ctx, *args, **kwargs)
        if pass_arg is _PassArg.environment:
            return func(context.environment, *args, **kwargs)
        return func(*args, **kwargs)

    return guarded


def _range(*args: int) -> range:
    """Jinja's sandboxed range (at most 100,000 items), its refusal one of our limits."""
    try:
        return safe_range(*args)
    except OverflowError as exc:
        raise ExpressionLimitError(f"a range of more than {MAX_RANGE:,} items") from exc


@pass_context
def _counted(context: Context, iterable: Any) -> Any:
    """The iterable of a ``{% for %}``, each iteration a step."""
    for item in iterable:
        _tick(context)
        yield item


def _bounded_concat(chunks: Iterable[str]) -> str:
    """A template's output (and a macro's, and a ``{% set %}`` block's), stopped once past
    MAX_SIZE characters rather than joined whole."""
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_SIZE:
            raise ExpressionLimitError(f"an output of more than {MAX_SIZE:,} characters")
        out.append(chunk)
    return "".join(out)


def _finalize(value: Any) -> Any:
    """Each ``{{ value }}`` of a template before it becomes text (a list shared 10,000 times
    would become a huge string)."""
    if type(value) is str:
        return value if len(value) <= MAX_SIZE else _sized(value, "an output")
    return _sized(value, "an output")


class _Generator(CodeGenerator):
    """Jinja's code generator, with literals (``[x, x]``, ``{"a": x}``) and ``~`` checked
    for size, and each loop's iterations counted."""

    def _wrapped(self, visit: Callable[[Any, Frame], None], node: Any, frame: Frame) -> None:
        self.write("environment.sized(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._wrapped(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._wrapped(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx == "load":  # not the targets of {% for a, b in ... %} or {% set a, b %}
            self._wrapped(super().visit_Tuple, node, frame)
        else:
            super().visit_Tuple(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self._wrapped(super().visit_Concat, node, frame)

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Before Jinja collects the filters a template uses: the loops' iterables pass
        # through the counting filter.
        for loop in node.find_all(nodes.For):
            if not getattr(loop, "_flowdeck_counted", False):
                loop.iter = nodes.Filter(
                    loop.iter, "_flowdeck_counted", [], [], None, None, lineno=loop.lineno
                )
                loop._flowdeck_counted = True
        super().visit_Template(node, frame)


# Attribute names the sandbox refuses besides those starting with "_" (Jinja's lists).
UNSAFE_NAMES = frozenset(
    {
        "mro",
        "func_globals",
        "func_code",
        "func_closure",
        "func_defaults",
        "im_func",
        "im_self",
        "im_class",
        *UNSAFE_GENERATOR_ATTRIBUTES,
        *UNSAFE_COROUTINE_ATTRIBUTES,
        *UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    }
)


class _Environment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, where ``x.name`` on a JSON object means its key ``name``
    when it has one (Jinja looks up attributes first, so ``input.items`` would otherwise be
    the dict method, not the run's ``items`` field), and every evaluation is bounded (the
    limits above). Jinja's own globals (``lipsum``, ``cycler``, ``joiner``, ``namespace``,
    ``dict``) are gone: expressions name input, steps and run (CONTRACT §2); ``range`` stays,
    bounded."""

    code_generator_class = _Generator
    # Intercepted, so that they are checked, and never computed while compiling (Jinja folds
    # constants: a save with "{{ 10**10000000 }}" would otherwise hang the web process).
    intercepted_binops = frozenset({"**", "*", "%", "+"})
    concat = staticmethod(_bounded_concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        for name in ("lipsum", "cycler", "joiner", "namespace", "dict"):
            self.globals.pop(name, None)
        self.globals["range"] = _range
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters["_flowdeck_counted"] = _counted
        self.tests = {name: _guard_test(f) for name, f in self.tests.items()}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def sized(self, value: Any) -> Any:
        return _sized(value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        kind = type(left), type(right)
        if float in kind or (
            kind == (int, int)
            and operator != "**"
            and left.bit_length() + right.bit_length() <= MAX_INT_BITS
        ):
            # Floats cannot grow past their size (they overflow to inf or raise; a float times
            # a string is a TypeError); + * % of small integers stay small.
            return self.binop_table[operator](left, right)
        _check_binop(operator, left, right)
        return _sized(self.binop_table[operator](left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick(__context)
        args = _check_method(__obj, args, kwargs)
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text, is_map = value.__self__, value.__name__ == "format_map"
        formatter: SandboxedFormatter
        if isinstance(text, Markup):  # from |e or |safe: the arguments are escaped
            formatter = _BoundedEscapeFormatter(self, escape=text.escape)
        else:
            formatter = _BoundedFormatter(self)

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return type(text)(formatter.vformat(text, args, kwargs))

        return bounded


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
    # Attribute or key names starting with "_" anywhere (on names, literals, filter results),
    # and the other attributes the sandbox refuses (mro, gi_frame, func_globals, ...): refused
    # at run time, so validation refuses them first.
    private_names: tuple[str, ...] = ()
    # Parts made of constants alone that go past a limit (``10**10000000``, ``'a' * 10**10``,
    # ``'%999999999d' % 1``): what they would make, said as the run would say it.
    limits: tuple[str, ...] = ()


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
    private = [n.attr for n in ast.find_all(nodes.Getattr) if _unsafe(n.attr)]
    private += [
        n.arg.value
        for n in ast.find_all(nodes.Getitem)
        if isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str) and _unsafe(n.arg.value)
    ]
    limits: list[str] = []
    # Nested too deeply to look into: the run stops what it would make.
    with contextlib.suppress(RecursionError):
        _constants(ast, limits)
    return Analysis(
        free_names=free,
        paths=tuple(paths),
        private_names=tuple(private),
        limits=tuple(dict.fromkeys(limits)),
    )


def _unsafe(name: str) -> bool:
    return name.startswith("_") or name in UNSAFE_NAMES


_NOT_CONSTANT = object()
# What a save may compute of a constant part (characters, items): a graph of 1 MB could hold
# thousands of "'a' * 19999999" that are each within the limits.
_SAVE_SIZE = 100_000


def _made(operator: str, left: Any, right: Any) -> int:
    """About how big ``left <operator> right`` is, without making it (checked already)."""
    if operator == "*" and not (isinstance(left, int) and isinstance(right, int)):
        sequence, times = (left, right) if isinstance(right, int) else (right, left)
        return weight(sequence) * times if isinstance(times, int) else 0
    if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
        return right * abs(left).bit_length() // 8
    return weight(left) + weight(right)


def _constants(node: nodes.Node, limits: list[str]) -> Any:
    """The value of ``node`` when it is made of constants and operators (``10**10000000``,
    ``'a' * 10**10``, ``range(10**9)``), computed under the limits, so never anything huge;
    else _NOT_CONSTANT. Each limit a constant part goes past is added to ``limits``. One pass,
    children first: each part is computed once, and let go once its parent is."""
    parts = [_constants(child, limits) for child in node.iter_child_nodes()]
    if isinstance(node, nodes.Const):
        return node.value
    is_range = (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "range"
        and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
    )
    if is_range:
        parts = parts[1:]  # the arguments, after the name
    if any(part is _NOT_CONSTANT for part in parts):
        return _NOT_CONSTANT
    try:
        if is_range:
            return _range(*parts)
        if isinstance(node, nodes.List):
            return _sized(parts)
        if isinstance(node, nodes.Tuple):
            return _sized(tuple(parts))
        if isinstance(node, nodes.Neg):
            return -parts[0]
        if isinstance(node, nodes.BinExpr):
            left, right = parts
            _check_binop(node.operator, left, right)
            if _made(node.operator, left, right) > _SAVE_SIZE:
                return _NOT_CONSTANT  # within the limits, but left for the run to make
            return ENV.binop_table[node.operator](left, right)
    except ExpressionLimitError as exc:
        limits.append(str(exc))
    except Exception:  # noqa: S110 - an error the run will report (1/0, 'a' - 1)
        pass
    return _NOT_CONSTANT


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
    "MAX_INT_BITS",
    "MAX_SECONDS",
    "MAX_SIZE",
    "MAX_STEPS",
    "MAX_WIDTH",
    "UNSAFE_NAMES",
    "ExpressionLimitError",
    "ITEM_NAMES",
    "ROOT_NAMES",
    "STEP_FIELDS",
    "Analysis",
    "TemplateError",
    "analyse_expression",
    "analyse_template",
    "is_template",
]
