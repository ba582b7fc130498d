"""The shipped examples run end to end, as far as their step types run today."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from designer.examples import load_examples
from designer.models import Workflow
from engine import transitions
from engine.models import Run
from tests.engine_kit import drive, start, statuses, task_of


def route_order(alice) -> Workflow:
    load_examples(alice)
    return Workflow.objects.get(name="Route an order")


def test_a_big_eu_order_is_priced_line_by_line_held_then_shipped_from_rotterdam(alice):
    wf = route_order(alice)
    sample = wf.versions.get().graph["input_schema"]["examples"][0]
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = start(wf, sample)
        drive(timezone.now())
        assert statuses(run)["cool_off"] == "waiting"
        clock.shift(timedelta(seconds=5))
        drive(timezone.now())

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.output == {"shipment": {"order": "A-1001", "amount": 1120, "held": True}}
    assert statuses(run)["ship_eu"] == "succeeded"
    assert statuses(run)["ship_us"] == "skipped"
    assert Run.objects.filter(parent_run=run).count() == 2  # one child run per line


def test_a_small_us_order_skips_the_cooling_off(alice):
    wf = route_order(alice)
    lines = [{"sku": "pen", "quantity": 3, "unit_price": 2.5}]

    run = start(wf, {"order_id": "B-7", "country": "US", "lines": lines})
    drive()

    run.refresh_from_db()
    assert run.output == {"shipment": {"order": "B-7", "amount": 7.5, "held": False}}
    assert statuses(run)["cool_off"] == "skipped"


def test_an_unknown_region_fails_the_run_with_its_code(alice):
    wf = route_order(alice)
    lines = [{"sku": "pen", "quantity": 1, "unit_price": 1}]

    run = start(wf, {"order_id": "C-1", "country": "JP", "lines": lines})
    drive()

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == {
        "message": "no warehouse ships to JP",
        "code": "NO_WAREHOUSE",
        "node": "unknown",
    }


def test_a_big_invoice_waits_for_finance_and_a_rejection_fails_the_run_naming_who(alice, bob):
    Group.objects.create(name="finance-leads")  # the example escalates to it
    load_examples(alice)
    wf = Workflow.objects.get(name="Invoice approval")

    run = start(wf, {"invoice": "INV-7", "amount": 5000, "supplier": "ACME"}, actor=alice)
    drive()
    task = task_of(run, "approve")
    assert (task.title, task.description) == ("Approve invoice INV-7 of 5000 EUR", "Supplier: ACME")
    with pytest.raises(transitions.Forbidden):  # four eyes: alice started it
        transitions.do_decide(task.pk, actor=alice, decision="approve")
    transitions.do_decide(task.pk, actor=bob, decision="reject", comment="duplicate")
    drive()

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == {
        "message": "Invoice INV-7 was rejected by bob",
        "code": "failed",
        "node": "rejected",
    }
    assert statuses(run)["pay"] == "skipped"
