"""The step types. Adding one: a module here, one line in STEP_TYPES, one test file."""

from designer.catalog import StepCatalog
from engine.steps import code, flow, http, human, logic, notify, transform, triggers

STEP_TYPES = [
    triggers.ManualTrigger,
    triggers.ScheduleTrigger,
    triggers.WebhookTrigger,
    http.HttpRequest,
    transform.Transform,
    logic.Condition,
    logic.Switch,
    flow.Delay,
    flow.Map,
    flow.SubWorkflow,
    flow.Fail,
    flow.Rollback,
    human.Approval,
    human.Form,
    notify.Email,
    code.Function,
]


def register_all(catalog: StepCatalog) -> None:
    for step_type in STEP_TYPES:
        catalog.register(step_type)
