"""Finding the workflow version a flow.subworkflow or flow.map step runs."""

from typing import Any

from designer.models import Workflow, WorkflowVersion
from engine.steps.base import StepContext, StepError


def resolve_version(ctx: StepContext, ref: dict[str, Any], version: Any) -> int:
    """The id of the WorkflowVersion that ``ref`` (by id or name) and ``version`` name."""
    workflows = Workflow.objects.filter(archived=False)
    if "id" in ref:
        candidates = list(workflows.filter(pk=ref["id"]))
        what = f"id {ref['id']}"
    else:
        candidates = list(workflows.filter(name=ref["name"]))
        what = f"name {ref['name']!r}"
        if len(candidates) > 1:
            # Several people may use one name: the run's own owner's workflow wins.
            mine = [w for w in candidates if w.owner_id == ctx.workflow_owner_id]
            if len(mine) != 1:
                raise StepError(
                    f"{len(candidates)} workflows are named {ref['name']!r}; refer to it by id",
                    retryable=False,
                    code="ambiguous_workflow",
                )
            candidates = mine
    if not candidates:
        raise StepError(f"no workflow with {what}", retryable=False, code="unknown_workflow")
    workflow = candidates[0]
    number = workflow.latest_version if version in (None, "latest") else version
    found = WorkflowVersion.objects.filter(workflow=workflow, number=number).values_list(
        "pk", flat=True
    )
    if not found:
        raise StepError(
            f"workflow {workflow.name!r} has no version {number}",
            retryable=False,
            code="unknown_version",
        )
    return found[0]
