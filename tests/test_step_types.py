"""The step types' catalog entries (CONTRACT §3): their config schemas and output handles.

The classes are imported from their modules, not through the registry, so these tests hold
whatever registers them. No format checker here: formats are the validator's business.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from designer.catalog import StepTypeSpec
from engine.steps.base import StepType, templated
from engine.steps.code import Function
from engine.steps.flow import Delay, Fail, Map, Rollback, SubWorkflow
from engine.steps.http import HttpRequest
from engine.steps.human import Approval, Form
from engine.steps.logic import Condition, Switch
from engine.steps.notify import Email
from engine.steps.transform import Transform
from engine.steps.triggers import ManualTrigger, ScheduleTrigger, WebhookTrigger

ALL_STEP_TYPES: list[type[StepType]] = [
    ManualTrigger,
    ScheduleTrigger,
    WebhookTrigger,
    HttpRequest,
    Transform,
    Condition,
    Switch,
    Delay,
    Map,
    SubWorkflow,
    Fail,
    Rollback,
    Approval,
    Form,
    Email,
    Function,
]
BY_NAME = {step_type.type_name: step_type for step_type in ALL_STEP_TYPES}

CATEGORIES = {"trigger", "logic", "flow", "data", "http", "human", "notify", "code"}
# The custom formats our validator implements (and which accept a templated string).
FORMATS = {"uri", "email", "date-time", "cron", "timezone"}

# The handles CONTRACT §3 lists, ``error`` left out (every node has it).
CONTRACT_HANDLES = {
    "trigger.manual": ["out"],
    "trigger.schedule": ["out"],
    "trigger.webhook": ["out"],
    "http.request": ["out"],
    "data.transform": ["out"],
    "logic.condition": ["true", "false"],
    "flow.delay": ["out"],
    "flow.map": ["out"],
    "flow.subworkflow": ["out"],
    "flow.fail": [],
    "flow.rollback": [],  # issue 20
    "human.approval": ["approved", "rejected"],
    "human.form": ["out"],
    "notify.email": ["out"],
    "code.function": ["out"],
}

WORKFLOW = {"name": "pay-one-invoice"}
ASSIGNEES = {"groups": ["finance"]}

# The least each type needs.
MINIMAL_CONFIGS: dict[str, dict[str, Any]] = {
    "trigger.manual": {},
    "trigger.schedule": {"cron": "0 9 * * 1-5"},
    "trigger.webhook": {},
    "http.request": {"url": "http://127.0.0.1:9000/pay"},
    "data.transform": {"value": {"total": "{{ input.amount }}"}},
    "logic.condition": {"expression": "input.amount > 1000"},
    "logic.switch": {"cases": [{"name": "big", "expression": "input.amount > 1000"}]},
    "flow.delay": {"seconds": 60},
    "flow.map": {"items": "{{ input.invoices }}", "workflow": WORKFLOW},
    "flow.subworkflow": {"workflow": {"id": 3}},
    "flow.fail": {"message": "Payment of {{ input.amount }} was declined"},
    "flow.rollback": {"message": "Trip {{ input.trip }} could not be paid"},
    "human.approval": {"title": "Approve {{ input.amount }} EUR", "assignees": ASSIGNEES},
    "human.form": {
        "title": "Fill in the delivery address",
        "assignees": {"users": ["bob"]},
        "form_schema": {"type": "object", "properties": {"street": {"type": "string"}}},
    },
    "notify.email": {"to": ["bob@example.com"], "subject": "Paid", "body": "All done."},
    "code.function": {"function": "billing.charge"},
}

# Fuller configs, templated values where native ones are expected included.
MORE_VALID_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    (
        "trigger.schedule",
        {
            "cron": "*/15 * * * *",
            "timezone": "Europe/Paris",
            "input": {"report": "daily"},
            "enabled": False,
            "catch_up": "all",
            "catch_up_limit": 100,
            "overlap": "queue",
        },
    ),
    (
        "trigger.webhook",
        {
            "signature": {"secret_credential": "stripe-webhook", "tolerance_s": 0},
            "max_body_bytes": 10_485_760,
        },
    ),
    (
        "http.request",
        {
            "method": "POST",
            "url": "{{ input.base_url }}/pay",
            "query": {"dry_run": "{{ input.dry_run }}"},
            "headers": {"X-Request-Id": "{{ run.id }}"},
            "body": {"amount": "{{ input.amount }}", "lines": [1, 2]},
            "credential": "payments-api",
            "expected_status": [200, 201, 409],
            "follow_redirects": True,
            "response_type": "json",
            "max_response_bytes": 52_428_800,
        },
    ),
    ("http.request", {"url": "http://x.test/", "query": "{{ input.params }}"}),
    ("http.request", {"url": "http://x.test/", "body_type": "raw", "body": "a,b\n1,2"}),
    ("http.request", {"url": "http://x.test/", "body_type": "form", "body": "{{ input.form }}"}),
    ("data.transform", {"value": None}),
    ("flow.delay", {"seconds": "{{ input.wait_s }}"}),
    ("flow.delay", {"seconds": 0.5}),
    ("flow.delay", {"until": "2030-01-31T09:00:00+01:00"}),
    (
        "flow.map",
        {
            "items": "{{ steps.fetch.output.body.invoices }}",
            "workflow": {"id": 7},
            "version": 2,
            "input": {"invoice": "{{ item }}", "position": "{{ index }}"},
            "concurrency": 100,
            "fail_fast": False,
        },
    ),
    ("flow.map", {"items": "{{ input.ids }}", "workflow": WORKFLOW, "input": "{{ item }}"}),
    ("flow.subworkflow", {"workflow": WORKFLOW, "version": "latest", "wait": False}),
    ("flow.fail", {"message": "Declined", "code": "PAYMENT_DECLINED"}),
    (
        "human.approval",
        {
            "title": "Approve {{ input.amount }} EUR",
            "description": "Invoice {{ input.number }}",
            "assignees": {"users": ["{{ input.manager }}", "bob"], "groups": []},
            "required_approvals": 2,
            "reject_on_first_rejection": False,
            "forbid_requester": True,
            "due_in_s": "{{ input.sla_s }}",
            "on_timeout": "escalate",
            "escalate_to": {"groups": ["managers"], "due_in_s": 3600},
            "reminder_every_s": 300,
            "allow_delegation": False,
        },
    ),
    (
        "human.form",
        {
            "title": "Address",
            "assignees": ASSIGNEES,
            "form_schema": {"type": "object", "properties": {"zip": {"type": "string"}}},
            "due_in_s": 86_400,
            "on_timeout": "escalate",
            "escalate_to": {"groups": ["support"]},
        },
    ),
    (
        "notify.email",
        {
            "to": "{{ input.recipients }}",
            "cc": ["carol@example.com"],
            "bcc": [],
            "subject": "Invoice {{ input.number }}",
            "body": "<p>Paid</p>",
            "html": True,
            "reply_to": "billing@example.com",
            "credential": "smtp.main",
        },
    ),
    ("code.function", {"function": "billing.charge", "args": {"amount": "{{ input.amount }}"}}),
]

# One clearly broken config per line: a missing required field, a wrong enum, an unknown key...
INVALID_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("trigger.manual", {"input": {}}),
    ("trigger.schedule", {}),
    ("trigger.schedule", {"cron": "* * * * *", "catch_up": "some"}),
    ("trigger.schedule", {"cron": "* * * * *", "catch_up_limit": 0}),
    ("trigger.schedule", {"cron": "* * * * *", "overlap": "replace"}),
    ("trigger.webhook", {"method": "POST"}),
    ("trigger.webhook", {"signature": {}}),
    ("trigger.webhook", {"signature": {"secret_credential": "{{ input.secret }}"}}),
    ("trigger.webhook", {"signature": {"secret_credential": "k", "tolerance_s": -1}}),
    ("trigger.webhook", {"max_body_bytes": 10_485_761}),
    ("http.request", {}),
    ("http.request", {"url": "http://x.test/", "method": "FETCH"}),
    ("http.request", {"url": "http://x.test/", "timeout_s": 5}),
    ("http.request", {"url": "http://x.test/", "expected_status": [99]}),
    ("http.request", {"url": "http://x.test/", "headers": {"Bad Header": "x"}}),
    ("http.request", {"url": "http://x.test/", "query": {"page": 2}}),
    ("http.request", {"url": "http://x.test/", "body_type": "raw", "body": {"a": 1}}),
    ("http.request", {"url": "http://x.test/", "body_type": "form", "body": [1, 2]}),
    ("http.request", {"url": "http://x.test/", "max_response_bytes": 0}),
    ("data.transform", {}),
    ("data.transform", {"value": 1, "output": 2}),
    ("logic.condition", {}),
    ("logic.condition", {"expression": ""}),
    ("logic.switch", {"cases": []}),
    ("logic.switch", {"cases": [{"name": "default", "expression": "true"}]}),
    ("flow.delay", {}),
    ("flow.delay", {"seconds": 5, "until": "2030-01-01T00:00:00Z"}),
    ("flow.delay", {"seconds": -1}),
    ("flow.delay", {"seconds": "soon"}),
    ("flow.map", {"workflow": WORKFLOW}),
    ("flow.map", {"items": "input.invoices", "workflow": WORKFLOW}),
    ("flow.map", {"items": "{{ input.ids }}", "workflow": {"id": 1, "name": "both"}}),
    ("flow.map", {"items": "{{ input.ids }}", "workflow": {}}),
    ("flow.map", {"items": "{{ input.ids }}", "workflow": WORKFLOW, "concurrency": 0}),
    ("flow.subworkflow", {}),
    ("flow.subworkflow", {"workflow": WORKFLOW, "version": 0}),
    ("flow.subworkflow", {"workflow": WORKFLOW, "version": "newest"}),
    ("flow.subworkflow", {"workflow": {"id": 0}}),
    ("flow.fail", {}),
    ("flow.fail", {"message": ""}),
    ("flow.fail", {"message": "x" * 2001}),
    ("flow.rollback", {}),
    ("flow.rollback", {"message": "no", "code": "X"}),
    ("human.approval", {"title": "Approve"}),
    ("human.approval", {"title": "Approve", "assignees": {}}),
    ("human.approval", {"title": "Approve", "assignees": {"users": [], "groups": []}}),
    ("human.approval", {"title": "Approve", "assignees": {"roles": ["finance"]}}),
    ("human.approval", {"title": "Approve", "assignees": ASSIGNEES, "required_approvals": 0}),
    ("human.approval", {"title": "Approve", "assignees": ASSIGNEES, "on_timeout": "ignore"}),
    ("human.approval", {"title": "Approve", "assignees": ASSIGNEES, "due_in_s": 59}),
    (
        "human.approval",
        {"title": "Approve", "assignees": ASSIGNEES, "due_in_s": 3600, "on_timeout": "escalate"},
    ),
    ("human.form", {"title": "Address", "assignees": ASSIGNEES}),
    ("human.form", {"title": "Address", "assignees": ASSIGNEES, "form_schema": {"type": "array"}}),
    (
        "human.form",
        {
            "title": "Address",
            "assignees": ASSIGNEES,
            "form_schema": {"type": "object", "properties": {"zip": {}}},
            "on_timeout": "approve",
        },
    ),
    ("notify.email", {"to": [], "subject": "s", "body": "b"}),
    ("notify.email", {"to": ["a@example.com"], "body": "b"}),
    ("notify.email", {"to": ["a@example.com"], "subject": "s", "body": "b", "from": "x"}),
    ("notify.email", {"to": ["a@example.com"] * 51, "subject": "s", "body": "b"}),
    ("code.function", {}),
    ("code.function", {"function": "Billing.Charge"}),
    ("code.function", {"function": "billing.charge", "args": {"not valid": 1}}),
    ("code.function", {"function": "billing.charge", "code": "print(1)"}),
]

# Keywords whose value is one subschema, a list of them, or a name -> subschema mapping.
ONE = ("items", "additionalProperties", "propertyNames", "if", "then", "else", "not")
MANY = ("anyOf", "oneOf", "allOf")


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """The schema and every schema nested in it."""
    if not isinstance(schema, dict):
        return
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from subschemas(sub)
    for keyword in ONE:
        yield from subschemas(schema.get(keyword))
    for keyword in MANY:
        for sub in schema.get(keyword, []):
            yield from subschemas(sub)


def strict_objects(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The objects built with object_schema: those a form shows field by field."""
    for sub in subschemas(schema):
        if sub.get("type") == "object" and sub.get("additionalProperties") is False:
            yield sub


def ids(step_types: list[type[StepType]]) -> list[str]:
    return [step_type.type_name for step_type in step_types]


def test_the_catalog_has_the_sixteen_step_types_of_the_contract():
    names = [step_type.type_name for step_type in ALL_STEP_TYPES]

    assert len(set(names)) == 16
    assert set(names) == set(CONTRACT_HANDLES) | {"logic.switch"}


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_every_step_type_declares_what_the_catalog_needs(step_type):
    assert isinstance(step_type, StepTypeSpec)
    assert step_type.title
    assert step_type.description
    assert step_type.__doc__ and step_type.__doc__ is not StepType.__doc__
    assert step_type.category in CATEGORIES
    assert step_type.type_name.split(".")[0] == step_type.category


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_only_trigger_types_are_triggers(step_type):
    assert step_type.is_trigger is (step_type.category == "trigger")


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_every_step_type_schema_is_a_valid_json_schema(step_type):
    Draft202012Validator.check_schema(step_type.config_schema)


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_every_config_schema_is_a_strict_object(step_type):
    schema = step_type.config_schema

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_every_property_has_a_title_and_a_description(step_type):
    for obj in strict_objects(step_type.config_schema):
        for name, prop in obj["properties"].items():
            assert prop.get("title"), f"{step_type.type_name}: {name} has no title"
            assert prop.get("description"), f"{step_type.type_name}: {name} has no description"


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_every_default_is_valid_for_its_own_property(step_type):
    for obj in strict_objects(step_type.config_schema):
        for name, prop in obj["properties"].items():
            if "default" in prop:
                errors = list(Draft202012Validator(prop).iter_errors(prop["default"]))
                assert errors == [], f"{step_type.type_name}: default of {name}"


@pytest.mark.parametrize("step_type", ALL_STEP_TYPES, ids=ids(ALL_STEP_TYPES))
def test_schemas_use_only_the_formats_our_validator_implements(step_type):
    used = {sub["format"] for sub in subschemas(step_type.config_schema) if "format" in sub}

    assert used <= FORMATS


@pytest.mark.parametrize("type_name", sorted(MINIMAL_CONFIGS))
def test_a_minimal_config_is_valid(type_name):
    validator = Draft202012Validator(BY_NAME[type_name].config_schema)

    assert list(validator.iter_errors(MINIMAL_CONFIGS[type_name])) == []


@pytest.mark.parametrize(("type_name", "config"), MORE_VALID_CONFIGS)
def test_a_full_or_templated_config_is_valid(type_name, config):
    validator = Draft202012Validator(BY_NAME[type_name].config_schema)

    assert list(validator.iter_errors(config)) == []


@pytest.mark.parametrize(("type_name", "config"), INVALID_CONFIGS)
def test_a_broken_config_is_refused(type_name, config):
    validator = Draft202012Validator(BY_NAME[type_name].config_schema)

    assert not validator.is_valid(config)


def test_every_step_type_has_a_minimal_and_a_broken_example():
    assert set(MINIMAL_CONFIGS) == set(BY_NAME)
    assert {type_name for type_name, _ in INVALID_CONFIGS} == set(BY_NAME)


@pytest.mark.parametrize(("type_name", "handles"), sorted(CONTRACT_HANDLES.items()))
def test_output_handles_are_those_of_the_contract(type_name, handles):
    step_type = BY_NAME[type_name]

    assert step_type.output_handles(MINIMAL_CONFIGS[type_name]) == handles
    assert "error" not in step_type.output_handles(MINIMAL_CONFIGS[type_name])


def test_switch_handles_are_its_case_names_then_default():
    config = {
        "cases": [
            {"name": "big", "expression": "input.amount > 1000"},
            {"name": "small", "expression": "input.amount < 10"},
        ]
    }

    assert Switch.output_handles(config) == ["big", "small", "default"]


def test_switch_handles_from_a_broken_config_are_just_default():
    assert Switch.output_handles({"cases": "oops"}) == ["default"]
    assert Switch.output_handles(None) == ["default"]


def test_only_condition_and_switch_hold_bare_expressions():
    with_expressions = {t.type_name for t in ALL_STEP_TYPES if t.expression_fields}

    assert with_expressions == {"logic.condition", "logic.switch"}


def test_item_and_index_are_defined_only_in_a_maps_input():
    assert Map.item_fields == ("input",)
    assert [t for t in ALL_STEP_TYPES if t.item_fields] == [Map]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (3, True),
        ("{{ input.n }}", True),
        ("  {{ input.n }}  ", True),
        ("{{ input.items\n | length }}", True),
        ("3", False),
        ("n = {{ input.n }}", False),
        (0, False),
    ],
)
def test_templated_accepts_the_native_value_or_exactly_one_template(value, valid):
    schema = templated({"type": "integer", "minimum": 1}, title="N")

    assert Draft202012Validator(schema).is_valid(value) is valid
