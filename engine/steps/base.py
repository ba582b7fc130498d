"""What every step type declares. A step type is one small class in one module of this folder
(STYLE 8); ``engine/steps/__init__.py`` registers it into the designer's catalog."""

from typing import Any, ClassVar

# Reused pieces of config schemas.
TEMPLATE = {"type": "string", "maxLength": 100_000}
ANY_VALUE: dict[str, Any] = {}


class StepType:
    """Base of every step type: its catalog entry. The runtime (``run``) comes with the engine."""

    type_name: ClassVar[str]
    title: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str]
    config_schema: ClassVar[dict[str, Any]]
    is_trigger: ClassVar[bool] = False
    expression_fields: ClassVar[tuple[str, ...]] = ()
    item_fields: ClassVar[tuple[str, ...]] = ()
    # Output handles, ``error`` excluded (every node has it). None when they come from config.
    static_handles: ClassVar[tuple[str, ...] | None] = ("out",)
    # How handles come from config: one per item of config[list], named by item[key], then the
    # names in ``then``.
    handles_from_config: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def output_handles(cls, config: Any) -> list[str]:
        if cls.handles_from_config is None:
            return list(cls.static_handles or ())
        spec = cls.handles_from_config
        items = config.get(spec["list"], []) if isinstance(config, dict) else []
        names = [item[spec["key"]] for item in items if isinstance(item, dict)]
        return [name for name in names if isinstance(name, str)] + list(spec.get("then", []))


def object_schema(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A strict object schema: unknown keys are refused, so typos surface as errors."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


# A string that is exactly one ``{{ ... }}``: it renders to a native value (CONTRACT §2), so it may
# stand where a number, list or object is expected. [\s\S] rather than . so a long expression may
# span lines.
TEMPLATED_VALUE: dict[str, Any] = {"type": "string", "pattern": r"^\s*\{\{[\s\S]*\}\}\s*$"}

# A credential is named, never inlined: the secret stays in the credential store. No braces, so a
# run's input cannot pick which secret a step uses.
CREDENTIAL_NAME: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
}

# An HTTP header name (a subset of RFC 9110's token characters).
HEADER_NAME: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9-]{1,128}$"}


def templated(schema: dict[str, Any], **annotations: Any) -> dict[str, Any]:
    """``schema``, or a string that is one ``{{ ... }}`` yielding such a value when rendered.

    ``annotations`` (title, description, default) sit beside the ``anyOf`` where forms read them.
    """
    return {"anyOf": [schema, TEMPLATED_VALUE], **annotations}
