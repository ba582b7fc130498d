"""human.form: the step waits on a task whose submission, checked against the form's JSON
Schema, becomes its output."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.utils import timezone

from engine import transitions
from engine.models import RunEvent
from tests.engine_kit import drive, form_graph, start, statuses, steps, task_of, workflow


def submit(user, task, data, comment=""):
    transitions.check_decide(user, task.pk, decision=None, data=data)
    return transitions.do_decide(task.pk, actor=user, decision=None, comment=comment, data=data)


def asked(owner, **config):
    run = start(workflow(owner, form_graph(**config)), {}, actor=owner)
    drive(timezone.now())
    return run


def test_a_form_waits_on_a_task_carrying_its_schema(alice, bob):
    run = asked(alice)

    task = task_of(run)
    assert (task.kind, task.status, statuses(run)["ask"]) == ("form", "open", "waiting")
    assert task.form_schema["required"] == ["iban"]
    assert task.policy["allow_delegation"] is True


def test_a_submission_becomes_the_steps_output_and_the_run_goes_on(alice, bob):
    run = asked(alice)
    task = task_of(run)

    submit(bob, task, {"iban": "DE123456", "note": "new account"}, comment="checked")
    drive()

    ask = steps(run)["ask"]
    assert (ask.status, ask.handle, statuses(run)["after"]) == ("succeeded", "out", "succeeded")
    assert ask.output == {
        "data": {"iban": "DE123456", "note": "new account"},
        "submitted_by": "bob",
        "submitted_at": ask.output["submitted_at"],
        "comment": "checked",
        "task": task.pk,
    }
    task.refresh_from_db()
    assert task.status == "submitted"
    assert task.decisions.get().data == {"iban": "DE123456", "note": "new account"}
    closed = RunEvent.objects.get(run=run, type="task.closed")
    assert closed.data["decided_by"] == "bob"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({}, "data", "required"),
        ({"iban": "DE1"}, "data.iban", "minLength"),
        ({"iban": 5}, "data.iban", "type"),
    ],
)
def test_a_submission_against_the_schema_is_refused_with_its_field(alice, bob, data, field, code):
    run = asked(alice)

    with pytest.raises(transitions.InputInvalid) as refused:
        submit(bob, task_of(run), data)

    assert (refused.value.errors[0]["field"], refused.value.errors[0]["code"]) == (field, code)
    assert task_of(run).status == "open"


def test_a_form_takes_data_not_a_decision(alice, bob):
    run = asked(alice)

    with pytest.raises(transitions.InputInvalid) as refused:
        transitions.check_decide(bob, task_of(run).pk, decision="approve", data={"iban": "DE12345"})

    assert refused.value.errors[0]["field"] == "decision"


def test_a_form_schema_that_is_no_json_schema_fails_the_step_as_bad_config(alice, bob):
    schema = {"type": "object", "properties": {"iban": {"type": "text"}}}

    run = asked(alice, form_schema=schema)

    ask = steps(run)["ask"]
    assert (ask.status, ask.error["code"]) == ("failed", "bad_config")
    assert "form_schema" in ask.error["message"]


def test_an_overdue_form_fails_by_default(alice, bob):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(alice, due_in_s=600)
        clock.shift(timedelta(seconds=600))
        drive(timezone.now())

    assert steps(run)["ask"].error["code"] == "task_timed_out"
    assert task_of(run).status == "timed_out"


def test_an_overdue_form_escalates(alice, bob):
    leads = Group.objects.create(name="finance-leads")
    lead = User.objects.create_user("lena")
    lead.groups.add(leads)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(
            alice, due_in_s=600, on_timeout="escalate", escalate_to={"groups": ["finance-leads"]}
        )
        clock.shift(timedelta(seconds=600))
        drive(timezone.now())

        submit(lead, task_of(run), {"iban": "DE999999"})

    assert steps(run)["ask"].output["submitted_by"] == "lena"
    assert task_of(run).escalation_level == 1


def test_a_form_may_be_delegated(alice, bob, charlie):
    run = asked(alice, assignees={"users": ["bob"]})
    transitions.do_delegate(task_of(run).pk, actor=bob, to="charlie")

    submit(charlie, task_of(run), {"iban": "DE777777"})

    assert steps(run)["ask"].output["submitted_by"] == "charlie"


def test_a_submission_over_the_output_limit_is_refused(alice, bob, settings):
    run = asked(alice)
    settings.FLOWDECK_MAX_OUTPUT_BYTES = 1000

    with pytest.raises(transitions.InputInvalid) as refused:
        submit(bob, task_of(run), {"iban": "DE12345", "note": "x" * 1000})

    assert refused.value.errors[0]["field"] == "data"
    assert refused.value.errors[0]["code"] == "output_too_large"
    assert (task_of(run).status, task_of(run).decisions.count()) == ("open", 0)
