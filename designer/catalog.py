"""The step-type catalog: what the designer and the validator know about each step type.

Dependency inversion: the designer owns this registry and its protocol; the engine's step types
register themselves into it when the engine app starts (``engine.apps``). The designer never
imports the engine.
"""

from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

# Every node has this output handle too: an edge from it is taken when the node fails after
# its last attempt (CONTRACT §1).
ERROR_HANDLE = "error"


@runtime_checkable
class StepTypeSpec(Protocol):
    """What a step type must declare to appear in the catalog."""

    type_name: ClassVar[str]
    title: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str]
    config_schema: ClassVar[dict[str, Any]]
    is_trigger: ClassVar[bool]
    # Dotted paths in config (``*`` matches any key or list index) holding bare expressions;
    # every other string of config is a template (CONTRACT §2).
    expression_fields: ClassVar[tuple[str, ...]]
    # Dotted paths in config where the names ``item`` and ``index`` are defined (flow.map).
    item_fields: ClassVar[tuple[str, ...]]

    @classmethod
    def output_handles(cls, config: Any) -> list[str]:
        """The handles an edge may leave from, given this node's config (``error`` excluded)."""
        ...


class StepCatalog:
    def __init__(self) -> None:
        self._types: dict[str, type[StepTypeSpec]] = {}

    def register(self, step_type: type[StepTypeSpec]) -> type[StepTypeSpec]:
        """Add a step type; usable as a class decorator. A name registers once."""
        if not isinstance(step_type, StepTypeSpec):
            raise TypeError(f"{step_type!r} does not declare what a step type must")
        existing = self._types.get(step_type.type_name)
        if existing is not None and existing is not step_type:
            raise ValueError(f"step type {step_type.type_name!r} is registered twice")
        self._types[step_type.type_name] = step_type
        return step_type

    def get(self, type_name: str) -> type[StepTypeSpec] | None:
        return self._types.get(type_name)

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._types

    def __iter__(self) -> Iterator[type[StepTypeSpec]]:
        return iter(sorted(self._types.values(), key=lambda t: (t.category, t.type_name)))

    def __len__(self) -> int:
        return len(self._types)


def handles_of(step_type: type[StepTypeSpec], config: Any) -> list[str]:
    """All handles of a node of this type: its own, then ``error``."""
    try:
        own = list(step_type.output_handles(config))
    except Exception:
        # A config too broken to compute handles from (it gets its own errors); fall back to none.
        own = []
    return [*own, ERROR_HANDLE] if ERROR_HANDLE not in own else own


def describe(step_type: type[StepTypeSpec]) -> dict[str, Any]:
    """The catalog entry as the API shows it."""
    static = getattr(step_type, "static_handles", None)
    return {
        "type": step_type.type_name,
        "title": step_type.title,
        "category": step_type.category,
        "description": step_type.description,
        "is_trigger": step_type.is_trigger,
        "config_schema": step_type.config_schema,
        # None when the handles depend on the config; then handles_from_config says how
        # (logic.switch: {"list": "cases", "key": "name", "then": ["default"]}).
        "handles": None if static is None else [*static, ERROR_HANDLE],
        "handles_from_config": getattr(step_type, "handles_from_config", None),
        "expression_fields": list(step_type.expression_fields),
        # Config paths rendered once per item (flow.map's input), where `item` and `index`
        # are in scope; the designer completes them there.
        "item_fields": list(step_type.item_fields),
        # Config paths naming a credential -> the credential kinds each accepts.
        "credential_fields": {
            path: list(kinds) for path, kinds in getattr(step_type, "credential_fields", {}).items()
        },
    }


catalog = StepCatalog()
