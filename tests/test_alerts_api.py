"""The alerts API: rules (editor role, global rules staff only), incidents (seen with the
workflow, resolved by a runner), and the dead letters with their bulk retry."""

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertKind, AlertRule
from designer.models import Role, WorkflowGrant
from engine.models import Run, StepRun
from engine.states import RunStatus, StepStatus
from tests.engine_kit import build, drive, fn, noop, start, workflow

RULES = "/api/alerts/rules/"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


def failing_graph():
    return build(
        {"start": ("trigger.manual",), "work": fn("flaky", fail_times=9, retryable=False)},
        ["start>work"],
    )


@pytest.fixture
def wf(alice):
    return workflow(alice, failing_graph(), "payments")


def grant(wf, user, role):
    WorkflowGrant.objects.create(workflow=wf, user=user, role=role)


def a_rule(wf, **more):
    return {
        "name": "payments failing",
        "kind": "run_failed",
        "workflow": wf.pk if wf else None,
        "emails": ["ops@example.com"],
        **more,
    }


# --- Rules ---------------------------------------------------------------------------------------


def test_every_alerts_endpoint_needs_login(api, wf):
    for url in (RULES, f"{RULES}1/", "/api/alerts/", "/api/runs/dead-letter/"):
        assert api.get(url).status_code == 401, url
    for url in (RULES, "/api/alerts/1/resolve/", "/api/runs/dead-letter/retry/"):
        assert api.post(url, {}, format="json").status_code == 401, url


def test_an_owner_creates_a_rule_and_its_secret_is_never_returned(api, alice, wf):
    api.force_authenticate(alice)
    response = api.post(
        RULES,
        a_rule(wf, webhook_url="https://hooks.example.com/x", webhook_secret="s3cret"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_webhook_secret"] is True and "webhook_secret" not in body
    assert body["owner"] == "alice" and body["cooldown_s"] == 3600
    assert AlertRule.objects.get().webhook_secret == "s3cret"
    listed = api.get(RULES).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert "s3cret" not in str(listed) and "s3cret" not in str(
        api.get(f"{RULES}{body['id']}/").json()
    )


@pytest.mark.parametrize(
    ("role", "code"), [(None, 400), (Role.VIEWER, 403), (Role.RUNNER, 403), (Role.EDITOR, 201)]
)
def test_a_rule_of_a_workflow_needs_the_editor_role(api, wf, charlie, role, code):
    if role:
        grant(wf, charlie, role)
    api.force_authenticate(charlie)
    response = api.post(RULES, a_rule(wf), format="json")
    assert response.status_code == code, response.json()
    if code == 400:
        assert response.json()["errors"][0]["field"] == "workflow"


def test_global_rules_are_for_staff_only(api, alice, admin, wf):
    api.force_authenticate(alice)
    assert api.post(RULES, a_rule(None), format="json").status_code == 403
    api.force_authenticate(admin)
    created = api.post(RULES, a_rule(None), format="json")
    assert created.status_code == 201
    rule_id = created.json()["id"]
    api.force_authenticate(alice)
    assert api.get(f"{RULES}{rule_id}/").status_code == 404
    assert api.get(RULES).json()["results"] == []


def test_others_cannot_read_change_or_delete_a_rule(api, alice, charlie, wf):
    api.force_authenticate(alice)
    rule_id = api.post(RULES, a_rule(wf), format="json").json()["id"]
    url = f"{RULES}{rule_id}/"
    api.force_authenticate(charlie)
    assert api.get(url).status_code == 404
    assert api.patch(url, {"enabled": False}, format="json").status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get(RULES).json()["results"] == []
    grant(wf, charlie, Role.VIEWER)
    assert api.patch(url, {"enabled": False}, format="json").status_code == 403

    api.force_authenticate(alice)
    changed = api.patch(url, {"enabled": False, "cooldown_s": 60}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["cooldown_s"]) == (False, 60)
    assert api.delete(url).status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"webhook_url": "http://169.254.169.254/latest/meta-data"}, "webhook_url"),
        ({"webhook_url": "http://10.0.0.1/hook"}, "webhook_url"),
        ({"webhook_url": "http://[::1]:8000/hook"}, "webhook_url"),
        ({"kind": "failure_rate", "rate_pct": 150}, "rate_pct"),
        ({"kind": "failure_rate", "rate_pct": -1}, "rate_pct"),
        ({"kind": "failure_rate"}, "rate_pct"),
        ({"kind": "sometimes"}, "kind"),
        ({"emails": ["not-an-email"]}, "emails.0"),
        ({"emails": [], "webhook_url": ""}, "emails"),
        ({"cooldown_s": -5}, "cooldown_s"),
        ({"workflow": 999999}, "workflow"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field(api, alice, wf, change, field):
    api.force_authenticate(alice)
    response = api.post(RULES, a_rule(wf, **change), format="json")
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://10.1.2.3:9000/hook", 201),
        ("http://10.1.2.3:9001/hook", 400),
        ("http://10.1.2.3/hook", 400),  # port 80
        ("https://10.1.2.4/hook", 201),  # port 443
    ],
)
def test_a_webhook_address_allowed_on_one_port_only_is_judged_with_the_urls_port(
    api, alice, wf, settings, url, status
):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = ["10.1.2.3:9000", "10.1.2.4:443"]
    api.force_authenticate(alice)

    response = api.post(RULES, a_rule(wf, webhook_url=url), format="json")

    assert response.status_code == status, response.json()


def test_a_patch_is_checked_against_the_stored_rule(api, alice, wf):
    api.force_authenticate(alice)
    rule_id = api.post(RULES, a_rule(wf, kind="failure_rate", rate_pct=20), format="json").json()[
        "id"
    ]
    response = api.patch(f"{RULES}{rule_id}/", {"emails": []}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "emails"


# --- Incidents -----------------------------------------------------------------------------------


def incident(wf, **more):
    rule = AlertRule.objects.create(
        name="failed", kind=AlertKind.RUN_FAILED, workflow=wf, emails=["ops@example.com"]
    )
    now = timezone.now()
    return Alert.objects.create(
        rule=rule,
        key="run:1",
        workflow=wf,
        summary="run 1 of payments failed",
        opened_at=now,
        last_seen_at=now,
        last_sent_at=now,
        sends=1,
        **more,
    )


def test_incidents_are_seen_with_their_workflow(api, alice, bob, charlie, wf):
    alert = incident(wf)
    grant(wf, bob, Role.VIEWER)
    for user, ids in ((alice, [alert.pk]), (bob, [alert.pk]), (charlie, [])):
        api.force_authenticate(user)
        body = api.get("/api/alerts/").json()
        assert [a["id"] for a in body["results"]] == ids, user
    api.force_authenticate(alice)
    row = api.get("/api/alerts/").json()["results"][0]
    assert row["status"] == "open" and row["kind"] == "run_failed"
    assert row["deliveries"]["email"]["status"] == "none"


def test_the_alert_list_filters_by_status(api, alice, wf):
    open_one = incident(wf)
    closed = Alert.objects.create(
        rule=open_one.rule,
        key="run:2",
        workflow=wf,
        summary="old",
        opened_at=timezone.now(),
        last_seen_at=timezone.now(),
        resolved_at=timezone.now(),
        cleared_at=timezone.now(),
    )
    api.force_authenticate(alice)

    def ids(status):
        return [a["id"] for a in api.get(f"/api/alerts/?status={status}").json()["results"]]

    assert ids("open") == [open_one.pk]
    assert ids("resolved") == [closed.pk]
    assert ids("all") == [closed.pk, open_one.pk]
    bad = api.get("/api/alerts/?status=later")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"


def test_a_runner_resolves_an_incident_once(api, alice, bob, charlie, wf):
    alert = incident(wf)
    url = f"/api/alerts/{alert.pk}/resolve/"
    api.force_authenticate(charlie)
    assert api.post(url).status_code == 404
    grant(wf, bob, Role.VIEWER)
    api.force_authenticate(bob)
    assert api.post(url).status_code == 403
    api.force_authenticate(alice)
    done = api.post(url)
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolved_by"]) == ("resolved", "alice")
    assert api.post(url).status_code == 409
    assert api.post("/api/alerts/999999/resolve/").status_code == 404


# --- Dead letters --------------------------------------------------------------------------------


@pytest.fixture
def failed_runs(alice, wf):
    runs = [start(wf), start(wf)]
    drive()
    return runs


def test_the_dead_letters_are_failed_runs_newest_first(api, alice, charlie, wf, failed_runs):
    fine = workflow(alice, build({"start": ("trigger.manual",), "w": noop()}, ["start>w"]), "ok")
    start(fine)
    drive()
    api.force_authenticate(alice)
    body = api.get("/api/runs/dead-letter/").json()
    assert [r["id"] for r in body["results"]] == [failed_runs[1].pk, failed_runs[0].pk]
    assert body["results"][0]["failed_steps"] == ["work"]
    assert body["results"][0]["status"] == "failed"
    assert api.get(f"/api/runs/dead-letter/?workflow={fine.pk}").json()["results"] == []
    assert api.get("/api/runs/dead-letter/?workflow=x").status_code == 400
    api.force_authenticate(charlie)
    assert api.get("/api/runs/dead-letter/").json()["results"] == []


def test_a_failed_run_with_a_step_still_active_is_not_a_dead_letter(api, alice, failed_runs):
    run = failed_runs[0]
    StepRun.objects.filter(run=run, node_id="work").update(status=StepStatus.RETRYING)
    api.force_authenticate(alice)
    ids = [r["id"] for r in api.get("/api/runs/dead-letter/").json()["results"]]
    assert ids == [failed_runs[1].pk]


def test_bulk_retry_retries_the_failed_steps_of_the_callers_runs(
    api, alice, bob, charlie, wf, failed_runs
):
    other = workflow(charlie, failing_graph(), "charlies")
    theirs = start(other)
    viewer_wf = workflow(charlie, failing_graph(), "shared")
    grant(viewer_wf, alice, Role.VIEWER)
    viewed = start(viewer_wf)
    drive()

    api.force_authenticate(alice)
    ok, also = failed_runs
    response = api.post(
        "/api/runs/dead-letter/retry/",
        {"runs": [ok.pk, theirs.pk, viewed.pk, 999999, ok.pk], "reason": "fixed the service"},
        format="json",
    )
    assert response.status_code == 200
    results = {r["run"]: r for r in response.json()["results"]}
    assert results[ok.pk]["status"] == "retried" and results[ok.pk]["steps"] == ["work"]
    assert results[theirs.pk]["status"] == "not_found"
    assert results[viewed.pk]["status"] == "forbidden"
    assert results[999999]["status"] == "not_found"
    assert len(response.json()["results"]) == 4  # the duplicate id once

    ok.refresh_from_db()
    assert ok.status == RunStatus.RUNNING
    work = StepRun.objects.get(run=ok, node_id="work")
    assert (work.status, work.attempt) == (StepStatus.QUEUED, 2)
    assert ok.events.filter(type="step.retried", data__reason="fixed the service").exists()
    assert Run.objects.get(pk=also.pk).status == RunStatus.FAILED

    # Retried once: it is no dead letter any more, and a second retry is a conflict.
    ids = [r["id"] for r in api.get("/api/runs/dead-letter/").json()["results"]]
    assert ok.pk not in ids and also.pk in ids
    again = api.post("/api/runs/dead-letter/retry/", {"runs": [ok.pk]}, format="json")
    assert again.json()["results"][0]["status"] == "conflict"


@pytest.mark.parametrize("body", [{}, {"runs": []}, {"runs": ["x"]}, {"runs": list(range(1, 102))}])
def test_a_bad_bulk_retry_is_a_400(api, alice, body):
    api.force_authenticate(alice)
    response = api.post("/api/runs/dead-letter/retry/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("runs")
