"""What the expression sandbox's bounds cost (designer/expressions.py): the median time of one
evaluation of typical expressions and templates, precompiled, with Flowdeck's bounded
environment and with Jinja's plain immutable sandbox (what Flowdeck used before the bounds).

    .venv/bin/python bench/expressions.py [--rounds 30]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowdeck.settings")

from jinja2 import StrictUndefined  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

from designer.expressions import ENV  # noqa: E402


class Plain(ImmutableSandboxedEnvironment):
    """The environment before the bounds: the sandbox with JSON keys before attributes."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


PLAIN = Plain(undefined=StrictUndefined, autoescape=False)

SCOPE = {
    "input": {
        "amount": 1234.5,
        "name": "ACME",
        "items": [{"sku": f"A-{i}", "qty": i % 7, "price": i * 1.5} for i in range(100)],
    },
    "steps": {"pay": {"output": {"status": 200, "body": {"id": "p-1"}}, "status": "succeeded"}},
    "run": {"id": 42, "workflow": 7, "trigger": "api"},
}

EXPRESSIONS = [
    ("condition", "input.amount > 1000"),
    ("step output", "steps.pay.output.status == 200 and steps.pay.status == 'succeeded'"),
    ("arithmetic", "input.amount * 1.2 + 5"),
    ("filters", "input.items|map(attribute='sku')|join(',')"),
    ("percent format", "'%08.2f' % input.amount"),
    ("sum of 100", "input.items|sum(attribute='price')"),
]
TEMPLATES = [
    ("text", "Approve {{ input.amount }} EUR for {{ input.name }}"),
    ("concat", "{{ input.name ~ '-' ~ run.id }}"),
    (
        "loop of 100",
        "{% for item in input.items %}{{ item.sku }}:{{ item.qty * 2 }};{% endfor %}",
    ),
]


def one_round(call: Any, per_round: int = 200) -> float:
    # CPU time of this process: on a shared machine, wall time also counts other processes.
    start = time.process_time()
    for _ in range(per_round):
        call()
    return (time.process_time() - start) / per_round * 1e6


def medians_us(calls: list[Any], rounds: int) -> list[float]:
    """Rounds of each call, interleaved, so that both see the same machine."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            samples[index].append(one_round(call))
    return [statistics.median(s) for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    print(f"median of {rounds} rounds of 200 evaluations, µs of CPU per evaluation")
    print(f"{'':<16}{'plain sandbox':>14}{'bounded':>10}{'cost':>9}")
    rows = [(n, s, "e") for n, s in EXPRESSIONS] + [(n, s, "t") for n, s in TEMPLATES]
    for name, source, kind in rows:
        calls = []
        for env in (PLAIN, ENV):
            if kind == "e":
                compiled = env.compile_expression(source, undefined_to_none=False)
                calls.append(lambda c=compiled: c(**SCOPE))
            else:
                template = env.from_string(source)
                calls.append(lambda t=template: t.render(**SCOPE))
        plain, bounded = medians_us(calls, rounds)
        print(f"{name:<16}{plain:>14.1f}{bounded:>10.1f}{bounded - plain:>+8.1f}")


if __name__ == "__main__":
    main()
