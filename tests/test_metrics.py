"""/metrics: known runs in, exact Prometheus samples out (both database modes); who may scrape."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from engine.metrics import collector
from engine.models import HumanTask
from engine.states import RunStatus, StepStatus
from flowdeck.env import env_networks
from tests.stats_kit import NOW, at, make_history, make_human_history, make_run


@pytest.fixture(autouse=True)
def _fresh_totals():
    """The collector keeps its sums per process; each test's database starts empty."""
    collector.reset()
    yield
    collector.reset()


@pytest.fixture
def history(alice, bob):
    return make_history(alice, bob)


def scrape(client, when=NOW) -> dict[tuple[str, tuple], float]:
    with time_machine.travel(when, tick=False):
        response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def wf_label(wf, **more) -> tuple:
    return tuple(sorted({"workflow": str(wf.pk), **more}.items()))


def test_counters_histograms_and_gauges_from_known_rows(client, admin, history):
    wf, other = history
    client.force_login(admin)
    m = scrape(client)
    # Alice's six runs (one of them two days old) and Bob's one.
    assert m[("flowdeck_runs_started_total", wf_label(wf))] == 6
    assert m[("flowdeck_runs_started_total", wf_label(other))] == 1
    assert m[("flowdeck_runs_finished_total", wf_label(wf, outcome="succeeded"))] == 3
    assert m[("flowdeck_runs_finished_total", wf_label(wf, outcome="failed"))] == 1
    assert m[("flowdeck_runs_finished_total", wf_label(wf, outcome="cancelled"))] == 1
    assert m[("flowdeck_runs_finished_total", wf_label(other, outcome="failed"))] == 1
    assert m[("flowdeck_steps_finished_total", wf_label(wf, outcome="succeeded"))] == 3
    assert m[("flowdeck_steps_finished_total", wf_label(wf, outcome="failed"))] == 1
    assert m[("flowdeck_step_attempts_total", wf_label(wf))] == 1 + 3 + 1 + 4
    # Ended steps ran 4 s, 10 s, 2 s and 3600 s, each started as soon as queued.
    step = "flowdeck_step_run_seconds"
    assert m[(step + "_count", ())] == 4
    assert m[(step + "_sum", ())] == 3616
    assert m[(step + "_bucket", (("le", "5.0"),))] == 2
    assert m[(step + "_bucket", (("le", "10.0"),))] == 3
    assert m[(step + "_bucket", (("le", "1800.0"),))] == 3
    assert m[(step + "_bucket", (("le", "3600.0"),))] == 4
    assert m[(step + "_bucket", (("le", "+Inf"),))] == 4
    delay = "flowdeck_step_schedule_delay_seconds"
    assert m[(delay + "_count", ())] == 4
    assert m[(delay + "_bucket", (("le", "0.01"),))] == 4
    # Runs took 10, 30, 20, 3600 s (Alice) and 60 s (Bob); the cancelled one never started.
    run = "flowdeck_run_duration_seconds"
    assert m[(run + "_count", ())] == 5
    assert m[(run + "_sum", ())] == 3720
    assert m[(run + "_bucket", (("le", "10.0"),))] == 1
    assert m[(run + "_bucket", (("le", "30.0"),))] == 3
    assert m[(run + "_bucket", (("le", "60.0"),))] == 4
    assert m[(run + "_bucket", (("le", "900.0"),))] == 4
    assert m[(run + "_bucket", (("le", "3600.0"),))] == 5
    assert m[("flowdeck_queue_depth", ())] == 1
    assert m[("flowdeck_queue_oldest_age_seconds", ())] == 600
    assert m[("flowdeck_human_tasks_waiting", ())] == 2
    assert m[("flowdeck_human_tasks_overdue", ())] == 1
    assert m[("flowdeck_runs_active", (("status", "running"),))] == 1
    assert m[("flowdeck_runs_active", (("status", "queued"),))] == 0
    assert m[("flowdeck_workers_live", ())] == 0  # no worker process in this test
    assert m[("flowdeck_workflow_info", wf_label(wf, name="payments"))] == 1


def test_counters_grow_by_the_rows_that_ended_since_the_last_scrape(client, admin, history):
    wf, _ = history
    client.force_login(admin)
    before = scrape(client)
    # A run that ends 10 s after the first scrape: counted once it is 30 s old (settled).
    make_run(wf, RunStatus.FAILED, NOW, NOW, NOW + timedelta(seconds=10),
             [("a", StepStatus.FAILED, 2, NOW, NOW, NOW + timedelta(seconds=5))])  # fmt: skip
    key = ("flowdeck_runs_finished_total", wf_label(wf, outcome="failed"))
    assert scrape(client, NOW + timedelta(seconds=20))[key] == before[key]
    after = scrape(client, NOW + timedelta(seconds=41))
    assert after[key] == before[key] + 1
    assert after[("flowdeck_steps_finished_total", wf_label(wf, outcome="failed"))] == 2
    assert after[("flowdeck_step_attempts_total", wf_label(wf))] == 9 + 2
    assert after[("flowdeck_run_duration_seconds_count", ())] == 6
    # A scrape that sees nothing new changes nothing.
    assert scrape(client, NOW + timedelta(seconds=42))[key] == after[key]


# --- Who may scrape --------------------------------------------------------------------------


def test_without_settings_only_staff_sessions_may_scrape(client, charlie, admin):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer x").status_code == 403
    client.force_login(charlie)
    assert client.get("/metrics").status_code == 403
    client.force_login(admin)
    assert client.get("/metrics").status_code == 200


@override_settings(FLOWDECK_METRICS_TOKEN="s3cret-token")
def test_a_bearer_token_opens_metrics(client, db):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token s3cret-token").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.parametrize(
    ("allow", "address", "code"),
    [
        (["127.0.0.0/8"], "127.0.0.1", 200),
        (["10.0.0.0/8", "::1"], "::1", 200),
        (["10.0.0.0/8"], "127.0.0.1", 401),
        (["10.0.0.0/8"], "not-an-ip", 401),
    ],
)
def test_allowed_networks_open_metrics_without_a_token(client, db, allow, address, code):
    with override_settings(FLOWDECK_METRICS_ALLOW=allow):
        assert client.get("/metrics", REMOTE_ADDR=address).status_code == code


@override_settings(FLOWDECK_METRICS_TOKEN="tok", FLOWDECK_METRICS_ALLOW=["10.0.0.0/8"])
def test_with_both_set_both_must_hold(client, charlie):
    bearer = {"HTTP_AUTHORIZATION": "Bearer tok"}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", **bearer).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.1", **bearer).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    client.force_login(charlie)
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


def test_junk_networks_stop_the_settings():
    with pytest.raises(ImproperlyConfigured, match="FLOWDECK_METRICS_ALLOW"):
        env_networks("FLOWDECK_METRICS_ALLOW", environ={"FLOWDECK_METRICS_ALLOW": "10.0.0.0/33"})
    assert env_networks("X", environ={"X": "10.0.0.0/8, ::1"}) == ["10.0.0.0/8", "::1"]


def test_the_old_run_is_counted_at_its_time(client, admin, history):
    """Rows older than the first scrape count at once (the first scrape reads all history)."""
    client.force_login(admin)
    m = scrape(client, at(12, 0))  # before most of the history ended: only rows < 11:59:30
    wf, _ = history
    assert m[("flowdeck_runs_finished_total", wf_label(wf, outcome="succeeded"))] == 3


# --- Human tasks (issue 19, item 5) ----------------------------------------------------------


def step_label(wf, step, **more) -> tuple:
    return wf_label(wf, step=step, **more)


def test_tasks_are_counted_by_step_and_outcome_with_their_decision_times(
    client, admin, alice, bob, dave
):
    wf, other = make_human_history(alice, bob, dave)
    client.force_login(admin)
    m = scrape(client)
    # Every task of alice's approval step ever (the test run's is never counted).
    assert m[("flowdeck_tasks_opened_total", step_label(wf, "approve"))] == 8
    assert m[("flowdeck_tasks_opened_total", step_label(wf, "form"))] == 1
    assert m[("flowdeck_tasks_opened_total", step_label(other, "approve"))] == 1
    closed = "flowdeck_tasks_closed_total"
    assert m[(closed, step_label(wf, "approve", outcome="approved"))] == 3
    assert m[(closed, step_label(wf, "approve", outcome="rejected"))] == 1
    assert m[(closed, step_label(wf, "approve", outcome="timed_out"))] == 1
    assert m[(closed, step_label(wf, "approve", outcome="cancelled"))] == 1
    assert m[(closed, step_label(wf, "form", outcome="submitted"))] == 1
    # Closed late: the rejection (an hour past due) and the escalated timeout; the open one
    # past due is the overdue gauge's, not yet a breach.
    assert m[("flowdeck_task_breaches_total", step_label(wf, "approve"))] == 2
    assert m[("flowdeck_task_breaches_total", step_label(wf, "form"))] == 0
    # Decided or timed out after 10 min, 1 h, 2 h, 4 h and 28 h; the cancelled one is left out.
    h = "flowdeck_task_decision_seconds"
    approve = step_label(wf, "approve")
    assert m[(h + "_count", approve)] == 5
    assert m[(h + "_sum", approve)] == 600 + 3600 + 7200 + 14400 + 100800
    buckets = {le: m[(h + "_bucket", step_label(wf, "approve", le=le))] for le in
               ("60.0", "900.0", "3600.0", "14400.0", "86400.0", "259200.0", "+Inf")}  # fmt: skip
    assert buckets == {"60.0": 0, "900.0": 1, "3600.0": 2, "14400.0": 4, "86400.0": 4,
                       "259200.0": 5, "+Inf": 5}  # fmt: skip
    assert m[(h + "_count", step_label(wf, "form"))] == 1
    assert m[(h + "_sum", step_label(other, "approve"))] == 7200


def test_a_task_decided_after_a_scrape_is_counted_once_settled(client, admin, alice, bob, dave):
    wf, _ = make_human_history(alice, bob, dave)
    client.force_login(admin)
    before = scrape(client)
    task = HumanTask.objects.get(run__workflow=wf, status="open", due_at__isnull=True)
    # Approved 5 s after the first scrape: 1 h 5 s after it was asked (at 11:30).
    HumanTask.objects.filter(pk=task.pk).update(
        status="approved", closed_at=NOW + timedelta(seconds=5)
    )
    key = ("flowdeck_tasks_closed_total", step_label(wf, "approve", outcome="approved"))
    count = ("flowdeck_task_decision_seconds_count", step_label(wf, "approve"))
    assert scrape(client, NOW + timedelta(seconds=20))[key] == before[key]
    after = scrape(client, NOW + timedelta(seconds=36))
    assert after[key] == before[key] + 1
    assert after[count] == before[count] + 1
    bucket = "flowdeck_task_decision_seconds_bucket"
    assert after[(bucket, step_label(wf, "approve", le="3600.0"))] == 2
    assert after[(bucket, step_label(wf, "approve", le="14400.0"))] == 5  # with 1 h 5 s
    # Opened tasks are counted the same way: none since.
    opened = ("flowdeck_tasks_opened_total", step_label(wf, "approve"))
    assert after[opened] == before[opened] == 8
