"""Shaping the run itself: flow.delay, flow.map, flow.subworkflow, flow.fail."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from engine.steps.base import (
    TEMPLATE,
    TEMPLATED_VALUE,
    ChildOutcome,
    ChildProgress,
    ChildRun,
    StepContext,
    StepError,
    StepResult,
    StepType,
    Wait,
    object_schema,
    templated,
)

# Which workflow a flow.map or flow.subworkflow runs: by id or by name, not both.
WORKFLOW_REF: dict[str, Any] = object_schema(
    {
        "id": {
            "type": "integer",
            "title": "Workflow id",
            "description": "The id of the workflow to run.",
            "minimum": 1,
        },
        "name": {
            "type": "string",
            "title": "Workflow name",
            "description": "The name of the workflow to run.",
            "minLength": 1,
            "maxLength": 200,
        },
    },
    oneOf=[{"required": ["id"]}, {"required": ["name"]}],
    title="Workflow",
    description="The workflow to run, by id or by name.",
)

VERSION: dict[str, Any] = {
    "anyOf": [{"const": "latest"}, {"type": "integer", "minimum": 1}],
    "title": "Version",
    "description": (
        "latest runs the workflow's newest version when the step starts; "
        "a number pins that version."
    ),
    "default": "latest",
}


def child_input(description: str) -> dict[str, Any]:
    """The input a child run gets: an object whose strings are templates, or one template."""
    return templated({"type": "object"}, title="Input", description=description, default={})


class Delay(StepType):
    """Waits for a number of seconds or until a time, holding no worker meanwhile."""

    type_name = "flow.delay"
    title = "Delay"
    category = "flow"
    description = (
        "Waits for a number of seconds or until a given time, then continues. "
        "The timer is durable and holds no worker while it waits."
    )
    config_schema = object_schema(
        {
            "seconds": templated(
                {"type": "number", "minimum": 0, "maximum": 31_536_000},
                title="Seconds",
                description="How long to wait, up to a year.",
            ),
            "until": {
                "type": "string",
                "format": "date-time",
                "title": "Until",
                "description": (
                    "An ISO 8601 time to wait for, with its offset, "
                    "e.g. 2025-01-31T09:00:00+01:00. "
                    "A time already past continues at once."
                ),
                "minLength": 1,
                "maxLength": 10_000,
            },
        },
        # Exactly one of the two.
        oneOf=[{"required": ["seconds"]}, {"required": ["until"]}],
    )
    runnable = True

    def run(self, ctx: StepContext) -> Wait:
        config = ctx.config
        if "seconds" in config:
            seconds = config["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise StepError(
                    f"config.seconds must be a number of seconds >= 0, not {seconds!r}",
                    retryable=False,
                    code="bad_config",
                )
            wake_at = timezone.now() + timedelta(seconds=min(seconds, 31_536_000))
        else:
            try:
                wake_at = datetime.fromisoformat(config["until"])
            except (TypeError, ValueError) as exc:
                raise StepError(
                    f"config.until is not an ISO 8601 time: {exc}",
                    retryable=False,
                    code="bad_config",
                ) from exc
            if wake_at.tzinfo is None:
                raise StepError(
                    "config.until needs a UTC offset", retryable=False, code="bad_config"
                )
        return Wait(reason="delay", wake_at=wake_at)

    def wake(self, state: Mapping[str, Any]) -> StepResult:
        return StepResult(output={"waited_until": timezone.now().isoformat()})


class Map(StepType):
    """Runs a sub-workflow once per item of a list and outputs the list of their outputs."""

    type_name = "flow.map"
    title = "Map"
    category = "flow"
    description = (
        "Runs a workflow once for each item of a list, a few at a time, and outputs the list of "
        "their outputs in the items' order."
    )
    item_fields = ("input",)
    config_schema = object_schema(
        {
            "items": {
                **TEMPLATED_VALUE,
                "title": "Items",
                "description": "A template yielding the list to map over, e.g. {{ input.orders }}.",
                "maxLength": 10_000,
            },
            "workflow": WORKFLOW_REF,
            "version": VERSION,
            "input": child_input(
                "Each child run's input; item (the current item) and index (from 0) "
                "are defined here."
            ),
            "concurrency": {
                "type": "integer",
                "title": "Concurrency",
                "description": "How many child runs may run at the same time.",
                "minimum": 1,
                "maximum": 100,
                "default": 4,
            },
            "fail_fast": {
                "type": "boolean",
                "title": "Fail fast",
                "description": (
                    "Fail as soon as one child run fails and cancel the others; when off, wait for "
                    "all and fail at the end if any failed."
                ),
                "default": True,
            },
        },
        required=["items", "workflow"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult | Wait:
        from engine.children import resolve_version

        items = ctx.config["items"]
        if not isinstance(items, list):
            raise StepError(
                f"config.items must yield a list, not {type(items).__name__}",
                retryable=False,
                code="bad_config",
            )
        if not items:
            return StepResult(output=[])
        version_id = resolve_version(ctx, ctx.config["workflow"], ctx.config.get("version"))
        template = ctx.config.get("input", {})
        inputs = [
            ctx.render(template, "config.input", item=item, index=index)
            for index, item in enumerate(items)
        ]
        fail_fast = ctx.config.get("fail_fast", True)
        # An item whose input the child workflow refuses is a failed item, found before any
        # child starts: fail fast at once, or collect it with the others.
        invalid = invalid_inputs(version_id, inputs)
        if invalid and fail_fast:
            index, message = next(iter(invalid.items()))
            raise StepError(
                f"item {index}: the child run's input is invalid: {message}",
                retryable=False,
                code="bad_child_input",
            )
        todo = [i for i in range(len(inputs)) if i not in invalid]
        concurrency = ctx.config.get("concurrency", 4)
        state = {
            "version_id": version_id,
            "inputs": inputs,
            "todo": todo,  # the items to run, in order; "next" indexes it
            "next": min(concurrency, len(todo)),
            "results": [None] * len(inputs),
            "finished": len(invalid),
            "failed": sorted(invalid),
            "fail_fast": fail_fast,
        }
        if not todo:
            raise StepError(
                f"{len(invalid)} of {len(inputs)} items failed: {sorted(invalid)[:20]}",
                code="items_failed",
            )
        children = tuple(
            ChildRun(version_id=version_id, input=inputs[i], index=i) for i in todo[: state["next"]]
        )
        return Wait(reason="children", children=children, state=state)

    def child_finished(
        self, state: dict[str, Any], index: int | None, child: ChildOutcome
    ) -> ChildProgress:
        assert index is not None
        state = {**state, "results": list(state["results"]), "failed": list(state["failed"])}
        state["finished"] += 1
        if child.status == "succeeded":
            state["results"][index] = child.output
        else:
            state["failed"].append(index)
            if state["fail_fast"]:
                message = (child.error or {}).get("message", child.status)
                error = StepError(
                    f"item {index} (run {child.run_id}) {child.status}: {message}",
                    code="item_failed",
                )
                return ChildProgress(state=state, error=error, cancel_children=True)
        start: tuple[ChildRun, ...] = ()
        if state["next"] < len(state["todo"]):
            i = state["todo"][state["next"]]
            state["next"] += 1
            start = (ChildRun(state["version_id"], state["inputs"][i], i),)
        if state["finished"] < len(state["inputs"]):
            return ChildProgress(state=state, start=start)
        if state["failed"]:
            failed = sorted(state["failed"])
            error = StepError(
                f"{len(failed)} of {len(state['inputs'])} items failed: {failed[:20]}",
                code="items_failed",
            )
            return ChildProgress(state=state, error=error)
        return ChildProgress(state=state, result=StepResult(output=state["results"]))


def invalid_inputs(version_id: int, inputs: list[Any]) -> dict[int, str]:
    """{index: why} for the inputs the child workflow's input_schema refuses."""
    from designer.models import WorkflowVersion
    from engine.transitions import InputInvalid, check_start_input

    graph = WorkflowVersion.objects.values_list("graph", flat=True).get(pk=version_id)
    invalid = {}
    for index, value in enumerate(inputs):
        try:
            check_start_input(graph, value)
        except InputInvalid as exc:
            invalid[index] = f"{exc.errors[0]['field']}: {exc}"
    return invalid


class SubWorkflow(StepType):
    """Runs another workflow as a child run and outputs that run's output."""

    type_name = "flow.subworkflow"
    title = "Sub-workflow"
    category = "flow"
    description = (
        "Runs another workflow, its latest or a pinned version, and outputs the child run's "
        "output. The step fails if the child run fails."
    )
    config_schema = object_schema(
        {
            "workflow": WORKFLOW_REF,
            "version": VERSION,
            "input": child_input("The child run's input; strings inside it are templates."),
            "wait": {
                "type": "boolean",
                "title": "Wait for the result",
                "description": (
                    "Wait for the child run and output its output; when off, continue at once "
                    "and output the child run's id."
                ),
                "default": True,
            },
        },
        required=["workflow"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> Wait:
        from engine.children import resolve_version

        version_id = resolve_version(ctx, ctx.config["workflow"], ctx.config.get("version"))
        child = ChildRun(version_id=version_id, input=ctx.config.get("input", {}))
        return Wait(
            reason="children", children=(child,), state={"wait": ctx.config.get("wait", True)}
        )

    def children_started(self, state: Mapping[str, Any], run_ids: list[int]) -> StepResult | None:
        # Fire and forget: continue at once with the child's id.
        return None if state.get("wait", True) else StepResult(output={"run_id": run_ids[0]})

    def child_finished(
        self, state: dict[str, Any], index: int | None, child: ChildOutcome
    ) -> ChildProgress:
        if child.status == "succeeded":
            return ChildProgress(state=state, result=StepResult(output=child.output))
        message = (child.error or {}).get("message", child.status)
        return ChildProgress(
            state=state,
            error=StepError(
                f"child run {child.run_id} {child.status}: {message}", code="child_failed"
            ),
        )


class Fail(StepType):
    """Ends the run as failed with a message; it has no outgoing handle."""

    type_name = "flow.fail"
    title = "Fail"
    category = "flow"
    description = "Ends the run as failed with the given message and optional code."
    static_handles = ()
    config_schema = object_schema(
        {
            "message": {
                **TEMPLATE,
                "title": "Message",
                "description": "Why the run failed; may contain templates.",
                "minLength": 1,
                "maxLength": 2000,
            },
            "code": {
                "type": "string",
                "title": "Code",
                "description": "A short machine-readable error code, e.g. PAYMENT_DECLINED.",
                "minLength": 1,
                "maxLength": 100,
            },
        },
        required=["message"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        # Never retried: the workflow itself asked to fail.
        raise StepError(
            str(ctx.config["message"]), retryable=False, code=ctx.config.get("code", "failed")
        )


class Rollback(StepType):
    """Ends the run as failed with a message, named for intent: the succeeded steps that have
    a compensation are undone (as after flow.fail or any unhandled failure)."""

    type_name = "flow.rollback"
    title = "Roll back"
    category = "flow"
    description = (
        "Ends the run as failed with the given message, and runs the compensations of the "
        "steps that succeeded, in reverse order."
    )
    static_handles = ()
    config_schema = object_schema(
        {
            "message": {
                **TEMPLATE,
                "title": "Message",
                "description": "Why the run is rolled back; may contain templates.",
                "minLength": 1,
                "maxLength": 2000,
            },
        },
        required=["message"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        raise StepError(str(ctx.config["message"]), retryable=False, code="rolled_back")
