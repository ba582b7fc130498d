"""human.approval: the step waits (no worker held) on a task; its policies decide how it ends.

Runs are driven in-process (``drive``) and time is moved with ``time_machine``; decisions go
through the same ``check_*`` / ``do_*`` pair the API calls.
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.utils import timezone

from engine import transitions
from engine.models import RunEvent
from engine.steps.human import approval_outcome, next_reminder, timeout_rule
from tests.engine_kit import approval_graph, drive, start, statuses, steps, task_of, workflow


def decide(user, task, decision="approve", comment=""):
    """The API's path: the checks, then the transition."""
    transitions.check_decide(user, task.pk, decision=decision, data=None)
    return transitions.do_decide(task.pk, actor=user, decision=decision, comment=comment)


def delegate(user, task, to, comment=""):
    transitions.check_delegate(user, task.pk, to=to)
    return transitions.do_delegate(task.pk, actor=user, to=to, comment=comment)


def asked(owner, actor=None, input=None, **config):
    """A run of an approval workflow, driven until it waits for people."""
    run = start(workflow(owner, approval_graph(**config)), input or {"amount": 5}, actor=actor)
    drive(timezone.now())
    return run


@pytest.fixture
def sweep(django_capture_on_commit_callbacks, monkeypatch):
    """drive(now), then what its transactions left for after commit (the mail): the test's
    own transaction never commits. Nothing goes to the broker (in scale-out mode a real Redis
    that later tests' workers would read)."""
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)

    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            drive(timezone.now())

    return run


def task_events(run, type_):
    return list(RunEvent.objects.filter(run=run, type=type_).order_by("id"))


@pytest.fixture
def erin(db) -> User:
    user = User.objects.create_user("erin", password="erin-pass-123")
    user.groups.add(Group.objects.get_or_create(name="finance")[0])
    return user


@pytest.fixture
def leads(db) -> Group:
    return Group.objects.create(name="finance-leads")


# --- The rules alone ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approvals", "rejections", "undecided", "required", "first", "outcome"),
    [
        (1, 0, 3, 1, True, "approved"),
        (1, 0, 3, 2, True, None),
        (2, 1, 0, 2, True, "approved"),  # enough approvals win
        (1, 1, 3, 2, True, "rejected"),
        (0, 1, 2, 2, False, None),  # two may still approve
        (0, 2, 1, 2, False, "rejected"),  # one may: 2 is out of reach
        (1, 1, 1, 2, False, None),
        (0, 0, 0, 2, False, None),  # no rejection yet: groups may still grow
    ],
)
def test_what_decisions_mean(approvals, rejections, undecided, required, first, outcome):
    assert (
        approval_outcome(
            approvals=approvals,
            rejections=rejections,
            undecided=undecided,
            required=required,
            reject_on_first_rejection=first,
        )
        == outcome
    )


def test_timeout_rules_and_the_reminder_grid():
    escalate = {"on_timeout": "escalate", "escalate_to": {"groups": ["x"]}}
    assert timeout_rule(escalate, 0) == "escalate"
    assert timeout_rule(escalate, 1) == "fail"
    assert timeout_rule({"on_timeout": "escalate"}, 0) == "fail"
    assert timeout_rule({}, 0) == "fail"
    assert timeout_rule({"on_timeout": "approve"}, 0) == "approve"
    t0 = timezone.now()
    hour = timedelta(hours=1)
    assert next_reminder(t0, 3600, t0) == t0 + hour
    assert next_reminder(t0, 3600, t0 + 2.5 * hour) == t0 + 3 * hour  # no burst of missed ones
    assert next_reminder(t0 + hour, 3600, t0) == t0 + hour


# --- Asking -------------------------------------------------------------------------------------


def test_an_approval_waits_without_a_worker_on_a_task_rendered_from_the_run(alice, bob, dave):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        run = asked(
            alice,
            actor=alice,
            input={"amount": 1200, "manager": "dave"},
            description="For {{ input.amount * 2 }}",
            assignees={"users": ["{{ input.manager }}"], "groups": ["finance"]},
            due_in_s=3600,
        )

    run.refresh_from_db()
    task = task_of(run)
    ask = steps(run)["ask"]
    assert (run.status, ask.status, ask.lease_owner) == ("waiting", "waiting", "")
    assert (task.kind, task.status, task.attempt) == ("approval", "open", 1)
    assert (task.title, task.description) == ("Pay 1200 EUR", "For 2400")
    assert task.assignee_names() == {"users": ["dave"], "groups": ["finance"]}
    assert task.requester == alice
    assert task.due_at == ask.wake_at == t0 + timedelta(hours=1)
    assert task.may_act(bob) and task.may_act(dave) and not task.may_act(alice)
    created = task_events(run, "task.created")[0]
    assert created.node_id == "ask"
    assert created.data == {
        "task": task.pk,
        "kind": "approval",
        "status": "open",
        "title": "Pay 1200 EUR",
        "assignees": {"users": ["dave"], "groups": ["finance"]},
        "requester": "alice",
        "due_at": task.due_at.isoformat(),
    }


def test_an_unknown_assignee_fails_the_step_with_its_name(alice, bob):
    run = asked(
        alice, assignees={"users": ["bob", "{{ input.who }}"]}, input={"amount": 5, "who": "nobody"}
    )

    ask = steps(run)["ask"]
    assert (ask.status, ask.error["code"]) == ("failed", "unknown_assignee")
    assert "'nobody'" in ask.error["message"]
    assert task_of(run) is None


def test_an_approval_continues_on_approved_with_who_decided(alice, bob):
    run = asked(alice)
    task = task_of(run)

    decide(bob, task, comment="fine")
    drive()

    run.refresh_from_db()
    assert statuses(run) == {
        "start": "succeeded",
        "ask": "succeeded",
        "yes": "succeeded",
        "no": "skipped",
    }
    assert run.status == "succeeded"
    ask = steps(run)["ask"]
    assert ask.handle == "approved"
    decision = ask.output["decisions"][0]
    assert ask.output == {
        "decision": "approved",
        "decided_by": "bob",
        "comment": "fine",
        "decisions": [
            {
                "user": "bob",
                "decision": "approve",
                "comment": "fine",
                "at": decision["at"],
                "via": "api",
            }
        ],
        "task": task.pk,
        "timed_out": False,
    }
    task.refresh_from_db()
    assert (task.status, task.result) == ("approved", ask.output)
    decided, closed = task_events(run, "task.decided")[0], task_events(run, "task.closed")[0]
    assert (decided.actor, decided.data["decision"], decided.data["comment"]) == (
        bob,
        "approve",
        "fine",
    )
    assert closed.data == {
        "task": task.pk,
        "kind": "approval",
        "status": "approved",
        "reason": "decided",
        "decided_by": "bob",
    }


def test_a_rejection_continues_on_rejected(alice, bob):
    run = asked(alice)

    decide(bob, task_of(run), "reject", "too much")
    drive()

    assert statuses(run)["no"] == "succeeded" and statuses(run)["yes"] == "skipped"
    assert steps(run)["ask"].output["decision"] == "rejected"
    assert task_of(run).status == "rejected"


# --- N of M -------------------------------------------------------------------------------------


def test_n_approvals_need_n_different_approvers(alice, bob, dave):
    run = asked(alice, required_approvals=2)
    task = task_of(run)

    decide(bob, task)
    assert (task_of(run).status, statuses(run)["ask"]) == ("open", "waiting")
    with pytest.raises(transitions.Conflict, match="already decided"):
        decide(bob, task)
    decide(dave, task)
    drive()

    ask = steps(run)["ask"]
    assert (ask.handle, ask.output["decided_by"]) == ("approved", "dave")
    assert [d["user"] for d in ask.output["decisions"]] == ["bob", "dave"]
    assert [e.data["approvals"] for e in task_events(run, "task.decided")] == [1, 2]


def test_one_rejection_rejects_at_once_by_default(alice, bob, dave, erin):
    run = asked(alice, required_approvals=2)

    decide(bob, task_of(run))
    decide(dave, task_of(run), "reject")

    assert steps(run)["ask"].handle == "rejected"


def test_without_reject_on_first_it_rejects_once_n_is_out_of_reach(alice, bob, dave, erin):
    run = asked(alice, required_approvals=2, reject_on_first_rejection=False)
    task = task_of(run)

    decide(bob, task, "reject")  # dave and erin may still approve
    assert task_of(run).status == "open"
    decide(dave, task)  # one approval; erin may still give the second
    assert task_of(run).status == "open"
    decide(erin, task, "reject")

    assert (task_of(run).status, steps(run)["ask"].handle) == ("rejected", "rejected")
    assert steps(run)["ask"].output["decided_by"] == "erin"


# --- Four eyes ----------------------------------------------------------------------------------


def test_four_eyes_the_requester_may_not_decide_even_as_an_assignee(alice, bob):
    alice.groups.add(Group.objects.get(name="finance"))
    run = asked(alice, actor=alice, forbid_requester=True)
    task = task_of(run)

    with pytest.raises(transitions.Forbidden, match="four eyes") as refused:
        decide(alice, task)
    assert refused.value.code == "four_eyes"
    with pytest.raises(transitions.Forbidden, match="four eyes"):
        delegate(alice, task, "charlie")
    decide(bob, task)

    assert steps(run)["ask"].output["decided_by"] == "bob"


def test_four_eyes_the_requester_does_not_count_towards_n(alice, bob, dave):
    alice.groups.add(Group.objects.get(name="finance"))
    run = asked(
        alice,
        actor=alice,
        forbid_requester=True,
        required_approvals=2,
        reject_on_first_rejection=False,
    )

    # finance is alice, bob and dave; without alice, bob's rejection leaves only dave.
    decide(bob, task_of(run), "reject")

    assert task_of(run).status == "rejected"


def test_without_four_eyes_the_requester_may_approve(alice, bob):
    alice.groups.add(Group.objects.get(name="finance"))
    run = asked(alice, actor=alice)

    decide(alice, task_of(run))

    assert steps(run)["ask"].output["decided_by"] == "alice"


# --- Reminders ----------------------------------------------------------------------------------


def test_reminders_email_those_who_have_not_acted_at_each_interval(sweep, alice, bob, dave):
    for user in (bob, dave):
        user.email = f"{user.username}@example.com"
        user.save()
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(alice, required_approvals=2, reminder_every_s=3600, due_in_s=86400)
        task = task_of(run)
        assert steps(run)["ask"].wake_at == t0 + timedelta(hours=1)
        decide(bob, task)

        clock.shift(timedelta(minutes=59))
        sweep()
        assert mail.outbox == []

        clock.shift(timedelta(minutes=1))
        sweep()
        assert [m.to for m in mail.outbox] == [["dave@example.com"]]  # bob has approved
        assert mail.outbox[0].subject == "Reminder: Pay 5 EUR"
        assert steps(run)["ask"].wake_at == t0 + timedelta(hours=2)

        clock.shift(timedelta(hours=2, minutes=30))  # two missed: one reminder, not two
        sweep()

    assert len(mail.outbox) == 2
    reminded = task_events(run, "task.reminded")
    assert [e.data["users"] for e in reminded] == [["dave"], ["dave"]]
    assert [e.data["number"] for e in reminded] == [1, 2]
    assert steps(run)["ask"].wake_at == t0 + timedelta(hours=4)
    assert task_of(run).status == "open"


def test_no_reminder_is_sent_for_a_rolled_back_decision_of_the_timer(
    sweep, alice, bob, monkeypatch, django_capture_on_commit_callbacks
):
    bob.email = "bob@example.com"
    bob.save()
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(alice, reminder_every_s=3600)
        clock.shift(timedelta(hours=1))

        def crash(*args, **kwargs):
            raise RuntimeError("the sweeper died mid-transaction")

        monkeypatch.setattr("engine.events.record_task_reminded", crash)
        with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
            transitions.do_fire_timer(steps(run)["ask"].pk, timezone.now())
        monkeypatch.undo()
        assert mail.outbox == []  # the mail leaves only after commit
        assert steps(run)["ask"].wake_at == t0 + timedelta(hours=1)  # the timer is still due

        sweep()

    assert len(mail.outbox) == 1


# --- Timeouts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "handle", "status"),
    [("reject", "rejected", "rejected"), ("approve", "approved", "approved")],
)
def test_an_overdue_approval_follows_its_timeout_rule(alice, bob, rule, handle, status):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(alice, due_in_s=3600, on_timeout=rule)
        clock.shift(timedelta(seconds=3599))
        drive(timezone.now())
        assert statuses(run)["ask"] == "waiting"
        clock.shift(timedelta(seconds=1))
        drive(timezone.now())

    ask = steps(run)["ask"]
    assert ask.handle == handle
    assert ask.output | {"task": None} == {
        "decision": handle,
        "decided_by": None,
        "comment": "",
        "decisions": [],
        "task": None,
        "timed_out": True,
    }
    assert task_of(run).status == status
    assert task_events(run, "task.closed")[0].data["reason"] == "timeout"
    with pytest.raises(transitions.Conflict, match=f"already {status}"):
        decide(bob, task_of(run))


def test_an_overdue_approval_fails_the_step_by_default(alice, bob):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(alice, due_in_s=60)
        clock.shift(timedelta(seconds=60))
        drive(timezone.now())

    run.refresh_from_db()
    ask = steps(run)["ask"]
    assert (ask.status, ask.error["code"], ask.error["retryable"]) == (
        "failed",
        "task_timed_out",
        False,
    )
    assert task_of(run).status == "timed_out"
    assert run.status == "failed"


def test_an_overdue_approval_escalates_then_fails_when_the_escalation_is_overdue(
    sweep, alice, bob, leads
):
    lead = User.objects.create_user("lena", email="lena@example.com")
    lead.groups.add(leads)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(
            alice,
            due_in_s=3600,
            on_timeout="escalate",
            escalate_to={"groups": ["finance-leads"], "due_in_s": 7200},
        )
        assert not task_of(run).may_act(lead)
        clock.shift(timedelta(hours=1))
        sweep()

        task = task_of(run)
        assert (task.status, task.escalation_level) == ("open", 1)
        assert task.may_act(lead) and task.may_act(bob)  # added to, not replaced
        assert task.due_at == steps(run)["ask"].wake_at == t0 + timedelta(hours=3)
        escalated = task_events(run, "task.escalated")[0]
        assert escalated.data["groups"] == ["finance-leads"]
        assert escalated.data["assignees"] == {"users": [], "groups": ["finance", "finance-leads"]}
        assert [m.to for m in mail.outbox] == [["lena@example.com"]]
        assert mail.outbox[0].subject == "Escalated to you: Pay 5 EUR"

        clock.shift(timedelta(hours=2))
        sweep()

    ask = steps(run)["ask"]
    assert (ask.status, ask.error["code"]) == ("failed", "task_timed_out")
    assert "after its escalation" in ask.error["message"]
    assert task_of(run).status == "timed_out"


def test_an_escalated_approval_can_be_decided_by_the_escalation_group(alice, bob, leads):
    lead = User.objects.create_user("lena")
    lead.groups.add(leads)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(
            alice, due_in_s=60, on_timeout="escalate", escalate_to={"groups": ["finance-leads"]}
        )
        clock.shift(timedelta(seconds=60))
        drive(timezone.now())
        assert steps(run)["ask"].wake_at is None  # no second due time: it waits for people

        decide(lead, task_of(run))

    assert steps(run)["ask"].output["decided_by"] == "lena"


# --- Delegation ---------------------------------------------------------------------------------


def test_a_named_assignee_delegates_and_then_only_the_delegate_may_act(alice, bob, charlie):
    run = asked(alice, assignees={"users": ["bob"]})
    task = task_of(run)

    delegate(bob, task, "charlie", "on holiday")

    assert task.assignee_names() == {"users": ["charlie"], "groups": []}
    with pytest.raises(transitions.Forbidden, match="not an assignee"):
        decide(bob, task)
    event = task_events(run, "task.delegated")[0]
    assert (event.actor, event.data["from"], event.data["to"]) == (bob, "bob", "charlie")
    assert event.data["comment"] == "on holiday"
    assert task.delegations.get().to_user == charlie
    decide(charlie, task)
    assert steps(run)["ask"].output["decided_by"] == "charlie"


def test_a_group_member_who_delegates_may_still_act_through_the_group(alice, bob, charlie):
    run = asked(alice)  # finance

    delegate(bob, task_of(run), "charlie")

    assert task_of(run).may_act(bob) and task_of(run).may_act(charlie)
    decide(bob, task_of(run))
    assert steps(run)["ask"].output["decided_by"] == "bob"


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("nobody", "unknown_user"),
        ("bob", "invalid"),
        ("dave", "already_assignee"),
        ("alice", "four_eyes"),
    ],
)
def test_a_delegation_to_someone_who_cannot_take_it_is_refused(alice, bob, dave, to, code):
    run = asked(alice, actor=alice, forbid_requester=True)

    with pytest.raises(transitions.InputInvalid) as refused:
        delegate(bob, task_of(run), to)

    assert refused.value.errors[0]["field"] == "to"
    assert refused.value.errors[0]["code"] == code


def test_delegation_can_be_turned_off(alice, bob, charlie):
    run = asked(alice, allow_delegation=False)

    with pytest.raises(transitions.Forbidden) as refused:
        delegate(bob, task_of(run), "charlie")

    assert refused.value.code == "no_delegation"


# --- The step ends otherwise --------------------------------------------------------------------


def test_cancelling_the_run_cancels_its_open_task(alice, bob):
    run = asked(alice)

    transitions.do_cancel_run(run.pk, actor=alice)

    task = task_of(run)
    assert task.status == "cancelled"
    closed = task_events(run, "task.closed")[0]
    assert (closed.actor, closed.data["reason"]) == (alice, "cancelled")
    with pytest.raises(transitions.Conflict, match="already cancelled"):
        decide(bob, task)


def test_skipping_the_waiting_step_cancels_its_task(alice, bob):
    run = asked(alice)

    transitions.do_skip_step(run.pk, "ask", actor=alice)

    assert task_of(run).status == "cancelled"
    assert task_events(run, "task.closed")[0].data["reason"] == "skipped"


def test_a_retried_step_asks_again_in_a_new_task(alice, bob):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = asked(alice, due_in_s=60)
        clock.shift(timedelta(seconds=60))
        drive(timezone.now())
        first = task_of(run)

        transitions.do_retry_step(run.pk, "ask", actor=alice)
        drive(timezone.now())

    second = task_of(run)
    assert (first.status, first.attempt) == ("timed_out", 1)
    assert (second.status, second.attempt, second.pk != first.pk) == ("open", 2, True)
    decide(bob, second)
    assert steps(run)["ask"].output["task"] == second.pk
