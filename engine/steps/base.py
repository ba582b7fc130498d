"""What every step type declares. A step type is one small class in one module of this folder
(STYLE 8); ``engine/steps/__init__.py`` registers it into the designer's catalog."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from threading import Event
from typing import TYPE_CHECKING, Any, ClassVar

from engine.expressions import evaluate, render
from engine.states import Priority
from engine.steplogs import LogBuffer

if TYPE_CHECKING:
    from connectors.credentials import ResolvedCredential

# Reused pieces of config schemas.
TEMPLATE = {"type": "string", "maxLength": 100_000}
ANY_VALUE: dict[str, Any] = {}


class StepError(Exception):
    """A step failed. ``retryable`` decides, with the node's retry policy, whether it runs again
    (STYLE 7): a 503 is worth retrying, a bad URL is not."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        code: str = "step_error",
        retry_after_s: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        # The service asked us to wait this long (HTTP Retry-After): the next attempt is not
        # sooner, whatever the backoff says.
        self.retry_after_s = retry_after_s
        self.details = dict(details or {})  # small JSON facts, e.g. an HTTP status

    def as_dict(self) -> dict[str, Any]:
        error = {**self.details, "message": self.message, "code": self.code}
        error["retryable"] = self.retryable
        if self.retry_after_s is not None:
            error["retry_after_s"] = self.retry_after_s
        return error


@dataclass(frozen=True)
class StepResult:
    """A finished attempt: its output (JSON) and the handle it leaves by."""

    output: Any = None
    handle: str = "out"


@dataclass(frozen=True)
class ChildRun:
    """A child run a waiting step asks the engine to start (flow.subworkflow, flow.map)."""

    version_id: int
    input: Any
    index: int | None = None


@dataclass(frozen=True)
class TaskRequest:
    """A task for people that a waiting step asks the engine to create (human.approval,
    human.form), in the transaction that parks the step."""

    kind: str  # approval or form
    title: str
    description: str
    user_ids: tuple[int, ...]
    group_ids: tuple[int, ...]
    policy: Mapping[str, Any]
    emails: tuple[str, ...] = ()  # email-only assignees, lower case
    due_at: datetime | None = None
    remind_at: datetime | None = None
    form_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Wait:
    """The step parks in ``waiting`` and holds no worker: until ``wake_at`` (a durable timer),
    or until its children end (``children``), or until someone decides (``task``)."""

    reason: str
    wake_at: datetime | None = None
    children: tuple[ChildRun, ...] = ()
    state: Mapping[str, Any] = field(default_factory=dict)
    task: TaskRequest | None = None


@dataclass
class StepContext:
    """What a step type sees of its run while one attempt executes."""

    run_id: int
    node_id: str
    attempt: int
    config: dict[str, Any]  # rendered, except the step type's item_fields
    scope: Mapping[str, Any]  # input, steps, run: what expressions may name
    workflow_owner_id: int | None = None
    # Whose rights open credentials: the version's author, else the workflow's owner.
    credential_user_id: int | None = None
    cancelled: Event = field(default_factory=Event)
    # When the node's timeout_s ends this attempt (None: no timeout): I/O should give up by then.
    deadline_at: datetime | None = None
    # Secret values opened by this attempt; the engine scrubs them from what it records.
    secrets: list[str] = field(default_factory=list)
    # Lines written through log(); stored with the attempt's outcome (engine/steplogs.py).
    logs: LogBuffer = field(default_factory=LogBuffer)
    # A test run's (engine/testruns.py): emails are kept in the step's output, not sent.
    capture_email: bool = False

    def log(self, message: Any, level: str = "info") -> None:
        """Write a line to this attempt's log (debug, info, warning or error), shown in the run
        view. Secrets the attempt opened are masked; lines past the caps are counted, not kept."""
        self.logs.add(message, level, self.secrets)

    @property
    def idempotency_key(self) -> str:
        """run:node:attempt: pass it on (an HTTP header) so retries can be deduplicated."""
        return f"{self.run_id}:{self.node_id}:{self.attempt}"

    def credential(self, name: str, kinds: Iterable[str]) -> "ResolvedCredential":
        """Open the credential ``name`` (one of ``kinds``) for this attempt. Its secret values
        are scrubbed from the attempt's output and error before they are stored."""
        from connectors.credentials import CredentialUnavailable, resolve

        try:
            resolved = resolve(name, user_id=self.credential_user_id, kinds=kinds)
        except CredentialUnavailable as exc:
            raise StepError(str(exc), retryable=False, code="credential_unavailable") from None
        self.secrets.extend(resolved.secret_values())
        return resolved

    def evaluate(self, expression: str, field: str) -> Any:
        return evaluate(expression, self.scope, field)

    def render(self, value: Any, field: str, **extra: Any) -> Any:
        return render(value, {**self.scope, **extra}, field)


class StepType:
    """Base of every step type: its catalog entry and its runtime, ``run(ctx)``."""

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
    # Config paths (dotted) naming a credential, with the credential kinds each accepts; saves
    # check the names against what the author may use (connectors/credentials.py).
    credential_fields: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Whether the engine can execute it; catalog-only types get their runtime in later issues.
    runnable: ClassVar[bool] = False
    # Blocking work (I/O, user code) runs in a thread the worker can abandon at the timeout.
    blocking: ClassVar[bool] = False
    # Waits for people (a TaskRequest): the engine owns its task's timers and decisions.
    asks_people: ClassVar[bool] = False

    @classmethod
    def config_problems(cls, config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """Rules across fields that a JSON Schema would state badly: (field, code, message)
        each, reported by the designer's validation with the node."""
        return []

    def run(self, ctx: StepContext) -> StepResult | Wait:
        raise StepError(f"the step type {self.type_name} cannot run yet", retryable=False)

    def wake(self, state: Mapping[str, Any]) -> StepResult:
        """A durable timer of a waiting step fired (flow.delay)."""
        raise StepError(f"{self.type_name} has no timer", retryable=False)

    def children_started(self, state: Mapping[str, Any], run_ids: list[int]) -> "StepResult | None":
        """The engine started the children the step asked for; a result ends the step now."""
        return None

    def child_finished(
        self, state: dict[str, Any], index: int | None, child: "ChildOutcome"
    ) -> "ChildProgress":
        """One of the step's child runs ended: what now (flow.subworkflow, flow.map)."""
        raise StepError(f"{self.type_name} has no child runs", retryable=False)

    @classmethod
    def output_handles(cls, config: Any) -> list[str]:
        if cls.handles_from_config is None:
            return list(cls.static_handles or ())
        spec = cls.handles_from_config
        items = config.get(spec["list"], []) if isinstance(config, dict) else []
        names = [item[spec["key"]] for item in items if isinstance(item, dict)]
        return [name for name in names if isinstance(name, str)] + list(spec.get("then", []))


# A trigger's priority for the runs it starts (webhook, schedule): no default, so a form left
# alone keeps the workflow's.
PRIORITY: dict[str, Any] = {
    "type": "string",
    "enum": list(Priority.values),
    "title": "Priority",
    "description": (
        "The priority of the runs this trigger starts: their steps are taken from the queue "
        "before lower ones. Unset: the workflow's."
    ),
}


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


@dataclass(frozen=True)
class ChildOutcome:
    status: str  # succeeded, failed or cancelled
    output: Any
    error: Mapping[str, Any] | None
    run_id: int


@dataclass(frozen=True)
class ChildProgress:
    """After a child ended: the step's new state, children to start, and maybe its end."""

    state: dict[str, Any]
    start: tuple[ChildRun, ...] = ()
    result: StepResult | None = None
    error: StepError | None = None
    cancel_children: bool = False
