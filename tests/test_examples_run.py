"""The shipped examples run end to end, as far as their step types run today."""

import json
import threading
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from designer import services, transfer
from designer.demo_services import ORDERS, DemoServer, figure
from designer.examples import example_files, load_examples
from designer.models import Workflow, WorkflowVersion
from engine import transitions
from engine.models import Run
from tests.engine_kit import drive, start, statuses, steps, task_of
from tests.helpers import wait_until
from tests.workers import Workers


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


def test_the_invoice_example_lets_its_requester_approve_until_four_eyes_is_turned_on(alice, bob):
    """The README's walk-through: one person starts a big invoice and approves it. The
    example's description says how to turn four eyes on, and then it holds."""
    load_examples(alice)
    wf = Workflow.objects.get(name="Invoice approval")
    Group.objects.create(name="finance-leads")
    invoice = {"invoice": "INV-9", "amount": 5000, "supplier": "ACME"}
    assert "turn on Four eyes" in wf.description

    run = start(wf, invoice, actor=bob)
    drive()
    transitions.do_decide(task_of(run, "approve").pk, actor=bob, decision="approve")

    graph = wf.versions.get().graph
    approve = next(n for n in graph["nodes"] if n["id"] == "approve")
    approve["config"]["forbid_requester"] = True
    services.do_save_version(actor=alice, workflow=wf, graph=graph, base_version=1)
    strict = start(wf, invoice, actor=bob)
    drive()
    with pytest.raises(transitions.Forbidden):
        transitions.do_decide(task_of(strict, "approve").pk, actor=bob, decision="approve")


def test_every_example_offers_a_sample_input_its_schema_accepts(alice):
    load_examples(alice)
    for wf in Workflow.objects.all():
        graph = wf.versions.order_by("-number").first().graph
        samples = graph["input_schema"]["examples"]
        assert samples, wf.name
        for sample in samples:
            transitions.check_start_input(graph, sample)


# --- The examples that call the demo services (designer/demo_services.py) ------------------------


@pytest.fixture
def demo(settings):
    """The demo services on a free port, the examples loaded for alice and pointed at it, and
    http.request allowed to reach that port only (as ./start.sh does for 9000)."""
    with DemoServer("127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        settings.FLOWDECK_HTTP_ALLOW_NETWORKS = [f"127.0.0.1:{port}"]
        server.url = f"http://127.0.0.1:{port}"
        yield server
        server.shutdown()


def example(alice, demo, name: str) -> Workflow:
    load_examples(alice)
    wf = Workflow.objects.get(name=name)
    version = wf.versions.get()
    text = json.dumps(version.graph).replace("http://127.0.0.1:9000", demo.url)
    WorkflowVersion.objects.filter(pk=version.pk).update(graph=json.loads(text))
    return wf


def test_the_fan_out_asks_three_services_at_once_retries_the_warming_one_and_decides(alice, demo):
    wf = example(alice, demo, "Parallel fan-out with a join")

    with time_machine.travel(timezone.now(), tick=False) as clock:
        run = start(wf, {"customer": "acme"})
        drive(timezone.now())
        risk = steps(run)["risk"]
        assert (risk.status, risk.attempt) == ("retrying", 1)  # 503: again after Retry-After
        clock.shift(timedelta(seconds=30))
        drive(timezone.now())

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    balance = figure("acme", "balance", modulo=5000) - 500
    ok = balance >= 0 and figure("acme", modulo=100) < 50
    assert run.output == {"decision": {"customer": "acme", "ok": ok}}
    assert steps(run)["risk"].attempt == 2
    assert steps(run)["crm"].output["body"]["name"] == "Acme"


def test_a_small_invoice_is_paid_at_once_and_its_payment_is_made_once_per_key(alice, demo):
    wf = example(alice, demo, "Invoice approval")

    run = start(wf, {"invoice": "INV-8", "amount": 120, "supplier": "ACME"})
    drive()

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.output == {"paid": True}
    pay = steps(run)["pay"]
    assert pay.output["status"] == 201
    payment = pay.output["body"]
    assert (payment["invoice"], payment["amount"], payment["status"]) == ("INV-8", 120, "paid")
    # The step sent its attempt's idempotency key: a retry of that attempt pays nothing twice.
    assert list(demo.state.payments) == [pay.idempotency_key]
    again = httpx.post(
        f"{demo.url}/pay",
        json={"invoice": "INV-8", "amount": 120},
        headers={"Idempotency-Key": pay.idempotency_key},
    )
    assert (again.status_code, again.json()) == (200, payment)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_fetch_and_transform_reshapes_the_orders_of_its_default_url(alice, demo):
    wf = example(alice, demo, "Fetch and transform")
    url = wf.versions.get().graph["input_schema"]["properties"]["url"]["default"]
    assert url == f"{demo.url}/orders"

    run = start(wf, {"url": url})
    drive()

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.output == {"result": {"source": url, "count": 3, "first": ORDERS[0]}}


def test_the_nightly_report_mails_the_figures_it_collected(alice, demo):
    wf = example(alice, demo, "Nightly report")

    run = start(wf, {"report": "daily"})
    drive()

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    figures = steps(run)["figures"].output["body"]
    assert figures["period"] == "daily"
    [message] = mail.outbox
    assert message.subject == "Flowdeck nightly report (daily)"
    assert message.body == f"Runs: {figures['runs']}\nFailures: {figures['failures']}"


def test_book_a_trip_fails_at_payment_and_cancels_each_reservation_once(alice, demo):
    wf = example(alice, demo, "Book a trip")
    sample = wf.versions.get().graph["input_schema"]["examples"][0]

    run = start(wf, sample)
    drive()

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error["node"] == "pay"
    by_node = steps(run)
    reserved = {
        kind: by_node[kind].output["body"]["reservation"] for kind in ("flight", "hotel", "car")
    }
    log = demo.state.trip_log
    assert sorted(e for e in log if e[0] == "reserve") == sorted(
        ("reserve", kind, ident) for kind, ident in reserved.items()
    )
    assert sorted(e for e in log if e[0] == "cancel") == sorted(
        ("cancel", kind, ident) for kind, ident in reserved.items()
    )
    assert all(demo.state.reservations[i]["status"] == "cancelled" for i in reserved.values())


def test_book_a_trip_with_a_good_card_is_paid_and_undoes_nothing(alice, demo):
    wf = example(alice, demo, "Book a trip")
    sample = wf.versions.get().graph["input_schema"]["examples"][1]

    run = start(wf, sample)
    drive()

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.output == {"paid": True}
    assert statuses(run)["cancel_car"] == "skipped"
    assert not [e for e in demo.state.trip_log if e[0] == "cancel"]


def test_the_demo_services_answer_404_and_400_for_what_they_do_not_serve(demo):
    assert httpx.get(f"{demo.url}/nothing").status_code == 404
    assert httpx.post(f"{demo.url}/pay", content=b"not json").status_code == 400
    assert httpx.post(f"{demo.url}/pay", json={"amount": 5}).status_code == 400
    assert httpx.post(f"{demo.url}/pay", content=b"x" * 70_000).status_code == 413


# --- Every example as on a fresh ./start.sh: bootstrapped, started through the API, real workers --


@pytest.fixture(scope="module")
def demo_and_workers(django_db_setup, tmp_path_factory):
    """The demo services on a free port, and worker processes allowed to reach it (as
    ./start.sh allows 127.0.0.1:9000)."""
    with DemoServer("127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        server.url = f"http://127.0.0.1:{port}"
        log = tmp_path_factory.mktemp("examples") / "worker.log"
        workers = Workers(log, FLOWDECK_HTTP_ALLOW_NETWORKS=f"127.0.0.1:{port}").start()
        yield server
        workers.stop()
        server.shutdown()


EXAMPLE_NAMES = [
    transfer.parts_of(transfer.load(path.read_bytes(), "json"))[0] for path in example_files()
]
TERMINAL = ("succeeded", "failed", "cancelled")


def run_to_its_end(api, run_id: int) -> dict:
    """Wait for the run to end, approving what it asks of the caller on the way, through the
    API as the Inbox does."""

    def ended() -> dict | None:
        for task in api.get(f"/api/approvals/?run={run_id}").json()["results"]:
            if task["can_decide"]:
                decided = api.post(
                    f"/api/approvals/{task['id']}/decide/",
                    {"decision": "approve", "comment": "looks right"},
                    format="json",
                )
                assert decided.status_code == 200, decided.content
        run = api.get(f"/api/runs/{run_id}/").json()
        return run if run["status"] in TERMINAL else None

    return wait_until(ended, timeout=90, interval=0.2, what=f"run {run_id} to end")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_runs_to_its_end_from_the_api_as_the_first_admin(api, demo_and_workers, name):
    call_command("flowdeck_bootstrap")
    admin = User.objects.get(username="admin")
    for version in WorkflowVersion.objects.all():  # the demo services listen elsewhere
        text = json.dumps(version.graph).replace("http://127.0.0.1:9000", demo_and_workers.url)
        WorkflowVersion.objects.filter(pk=version.pk).update(graph=json.loads(text))
    wf = Workflow.objects.get(name=name)
    graph = wf.versions.get().graph
    scheduled = graph["nodes"][0]["type"] == "trigger.schedule"
    # A scheduled workflow is started with no input (it gets its schedule's); every other with
    # the first sample its input_schema offers, as the Run form does.
    body = {} if scheduled else {"input": graph["input_schema"]["examples"][0]}
    api.force_login(admin)

    started = api.post(f"/api/workflows/{wf.pk}/runs/", body, format="json")
    assert started.status_code == 201, started.content
    run = run_to_its_end(api, started.json()["id"])

    if name == "Book a trip":  # the sample card is declined: the reservations are undone
        assert run["status"] == "failed", run["error"]
        assert run["error"]["node"] == "pay" and "402" in run["error"]["message"]
        by_node = {s["node"]: s for s in run["steps"]}
        for kind in ("flight", "hotel", "car"):
            assert by_node[f"cancel_{kind}"]["status"] == "succeeded"
            assert by_node[f"cancel_{kind}"]["compensates"] == kind
            assert by_node[kind]["compensated_by"] == f"cancel_{kind}"
            assert by_node[f"cancel_{kind}"]["output"]["body"]["status"] == "cancelled"
        events = api.get(f"/api/runs/{run['id']}/events/").json()
        types = [e["type"] for e in events["events"]]
        assert types.index("run.compensated") == types.index("run.failed") - 1
        return
    assert run["status"] == "succeeded", (run["error"], [s for s in run["steps"] if s["error"]])
    if scheduled:
        assert run["input"] == {"report": "daily"}
    if name == "Invoice approval":  # the big sample: approved by the admin who started it
        by_node = {s["node"]: s for s in run["steps"]}
        assert by_node["approve"]["handle"] == "approved"
        assert run["output"] == {"paid": True}
