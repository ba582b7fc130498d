"""/metrics: known runs in, exact Prometheus samples out (both database modes); who may scrape."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from engine.metrics import collector
from engine.states import RunStatus, StepStatus
from flowdeck.env import env_networks
from tests.stats_kit import NOW, at, make_history, make_run


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
