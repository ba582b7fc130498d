"""The permission matrix (issue 10, item 7): what each kind of caller gets from every endpoint
and every socket, as data, for tests/test_permission_matrix.py and the CSRF walk of
tests/test_web_hardening.py.

The endpoints come from the URL conf itself (``endpoints()`` walks Django's resolver, DRF's
routers included) and the sockets from ``flowdeck.routing``: a pattern without a rule here, or a
method of a view without a case, fails ``test_every_endpoint_has_an_expectation``. Each rule
builds a real URL on seeded objects (``World``): a workflow of alice's shared with a viewer, a
runner and an editor, its runs (one waiting for the runner's approval, one failed for good), the
task, a schedule, the webhook, alert rules and incidents, a credential with grants.

Outcomes are classes, not exact codes, where the exact code is beside the point: ``OK`` means
the request reached what it asked for (anything but 401, 403, 404, 405, a redirect to a login
page, or a 5xx; a 400 or 409 about the body or the state is fine), ``LOGIN`` a redirect to a
login page; an int is that exact status.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from alerts.models import Alert, AlertRule
from connectors.credentials import do_create_credential, do_grant_credential
from designer.models import ROLE_RANK, Role, StepTest, Workflow, WorkflowGrant
from engine.attachments import scan
from engine.discussion import do_attach
from engine.models import CircuitBreaker, HumanTask, Run, TaskAttachment
from people.absences import do_create_absence
from people.models import ApiToken
from people.tokens import do_create_token
from tests.engine_kit import build, drive, fn, start, task_of, workflow
from tests.schedule_kit import scheduled
from webhooks.models import WebhookEndpoint
from webhooks.services import token_of

ROLES = ("anonymous", "charlie", "viewer", "runner", "editor", "owner", "staff")
GRANTED = ("viewer", "runner", "editor")

OK = "ok"
LOGIN = "login"
REFUSED = frozenset({401, 403, 404, 405})
LOGIN_PAGES = ("/login/", "/admin/login/")


def outcome(response: Any) -> str | int:
    """The class of a response: OK, LOGIN, or the refusing status itself."""
    code = response.status_code
    if code in (301, 302, 303, 307, 308) and response["Location"].startswith(LOGIN_PAGES):
        return LOGIN
    if code in REFUSED or code >= 500:
        return code
    return OK


def matches(expected: str | int | frozenset[int], response: Any) -> bool:
    if isinstance(expected, frozenset):
        return response.status_code in expected  # any of these exact codes
    if isinstance(expected, int) and expected not in REFUSED:
        return response.status_code == expected  # an exact success code (the webhook's 202)
    return outcome(response) == expected


# --- Expectations: role -> outcome ---------------------------------------------------------------

Expect = dict[str, str | int | frozenset[int]]


def everyone(result: str | int | frozenset[int]) -> Expect:
    return dict.fromkeys(ROLES, result)


OPEN = everyone(OK)
LOGGED_IN = {**everyone(OK), "anonymous": 401}
PAGE = {**everyone(OK), "anonymous": LOGIN}
STAFF_ONLY = {**everyone(404), "anonymous": 401, "staff": OK}
# Staff's own endpoints (people and groups): that they exist is no secret, so 403, not 404.
STAFF = {**everyone(403), "anonymous": 401, "staff": OK}


def needs(role: Role) -> Expect:
    """A role on the object: 401 anonymous, 404 without any role, 403 under ``role``."""
    expect: Expect = {"anonymous": 401, "charlie": 404, "staff": OK}
    for name in (*GRANTED, "owner"):
        expect[name] = OK if ROLE_RANK[Role(name)] >= ROLE_RANK[role] else 403
    return expect


def but(expect: Expect, **changes: str | int | frozenset[int]) -> Expect:
    return {**expect, **changes}


# --- The seeded world ----------------------------------------------------------------------------


@dataclass
class World:
    """Real objects for every URL: alice owns them; ``viewer``, ``runner`` and ``editor`` hold
    those roles on the workflows and the credential; ``charlie`` holds none; ``admin`` is staff.
    The task waits for ``runner``, named as its assignee."""

    users: dict[str, User | None]
    wf: Workflow
    scheduled: Workflow
    run: Run  # waiting on the approval, its step ``work`` failed
    failed_run: Run  # failed for good: a dead letter
    task: HumanTask
    token: str  # the webhook's
    wf_grant: WorkflowGrant  # to a group, for the owner to take back
    rule: AlertRule
    global_rule: AlertRule
    alert: Alert
    global_alert: Alert
    credential: Any
    credential_grant: Any
    group: Group  # "reviewers", with the viewer in it; named by no workflow
    api_token: ApiToken  # the owner's
    attachment: TaskAttachment  # on the task, by the runner
    absence: Any = None  # the owner's, out of office next month with the runner as deputy
    breaker: Any = None  # the credential's circuit breaker, open


def matrix_graph() -> dict[str, Any]:
    """A webhook starts ``work`` (fails for good) and ``ask`` (an approval by the user the run's
    input names: an unknown one fails the step, and the run with it)."""
    ask = {"title": "Pay", "assignees": {"users": ["{{ input.approver }}"]}}
    return build(
        {
            "start": ("trigger.webhook", {}),
            "work": fn("flaky", fail_times=9, retryable=False),
            "ask": ("human.approval", ask),
        },
        ["start>work", "start>ask"],
    )


def seed(alice: User, charlie: User, admin: User) -> World:
    users: dict[str, User | None] = {
        "anonymous": None,
        "charlie": charlie,
        "owner": alice,
        "staff": admin,
    }
    for name in GRANTED:
        # No password: the tests log them in without one, and a hash costs a quarter second.
        users[name] = User.objects.create(username=name)
    wf = workflow(alice, matrix_graph(), name="payments")
    nightly = scheduled(alice, "0 9 * * *")
    for shared in (wf, nightly):
        for name in GRANTED:
            WorkflowGrant.objects.create(workflow=shared, user=users[name], role=name)
    auditors = Group.objects.create(name="auditors")
    wf_grant = WorkflowGrant.objects.create(workflow=wf, group=auditors, role=Role.VIEWER)
    StepTest.objects.create(
        workflow=wf, name="works", node="work", expect=[{"kind": "equals", "value": None}]
    )

    run = start(wf, {"approver": "runner"}, actor=alice)
    failed_run = start(wf, {"approver": "nobody"}, actor=alice)
    drive()
    run.refresh_from_db()
    failed_run.refresh_from_db()
    assert (run.status, failed_run.status) == ("waiting", "failed"), "the world is not as told"

    rule = AlertRule.objects.create(
        name="payments failing", kind="run_failed", workflow=wf, emails=["ops@example.com"]
    )
    global_rule = AlertRule.objects.create(
        name="anything failing", kind="run_failed", emails=["ops@example.com"], owner=admin
    )
    now = timezone.now()
    alert = Alert.objects.create(
        rule=rule,
        key=f"run:{failed_run.pk}",
        workflow=wf,
        summary="a run failed",
        opened_at=now,
        last_seen_at=now,
    )
    global_alert = Alert.objects.create(
        rule=global_rule, key="run:0", summary="a run failed", opened_at=now, last_seen_at=now
    )

    credential = do_create_credential(
        actor=alice, name="payments-api", kind="http_bearer", data={"token": "tok-matrix-1"}
    )
    for name in GRANTED:
        do_grant_credential(actor=alice, credential=credential, role=name, user=users[name])
    credential_grant = do_grant_credential(
        actor=alice, credential=credential, role=Role.VIEWER, group=auditors
    )
    reviewers = Group.objects.create(name="reviewers")
    reviewers.user_set.add(users["viewer"])
    api_token, _ = do_create_token(actor=alice, user=alice, name="matrix")
    note = SimpleUploadedFile("note.txt", b"the invoice number is 4711")
    attachment = do_attach(
        task_of(run).pk, actor=users["runner"], upload=note, scanned=scan(note.chunks())
    )
    return World(
        users=users,
        wf=wf,
        scheduled=nightly,
        run=run,
        failed_run=failed_run,
        task=task_of(run),
        token=token_of(WebhookEndpoint.objects.get(workflow=wf)),
        wf_grant=wf_grant,
        rule=rule,
        global_rule=global_rule,
        alert=alert,
        global_alert=global_alert,
        credential=credential,
        credential_grant=credential_grant,
        group=reviewers,
        api_token=api_token,
        attachment=attachment,
        breaker=CircuitBreaker.objects.create(
            key=f"credential:{credential.name}",
            scope="credential",
            target=credential.name,
            state="open",
            retry_at=now + timedelta(seconds=30),
        ),
        absence=do_create_absence(
            actor=alice,
            user=alice,
            starts_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=37),
            deputy="runner",
        ),
    )


# --- Rules ---------------------------------------------------------------------------------------

Check = Callable[[World, str, Any], str | None]


@dataclass(frozen=True)
class Case:
    """One request (method, URL, body) and what each role gets. ``then`` looks further at the
    answer (a list that must show or hide an object): a message when it is wrong."""

    method: str
    expect: Expect
    path: Callable[[World], str] | None = None
    body: Callable[[World], Any] | None = None
    then: Check | None = None
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """The cases of one URL pattern, named by the pattern's URL name (or its text when it has
    none). ``path`` builds the URL on the world; a case may build its own."""

    key: str
    path: Callable[[World], str]
    cases: tuple[Case, ...] = field(default_factory=tuple)

    def path_of(self, case: Case, world: World) -> str:
        return (case.path or self.path)(world)


def ids_in(data: Any) -> set[Any]:
    items = data.get("results", []) if isinstance(data, dict) else data
    return {item.get("id") for item in items if isinstance(item, dict)}


def lists(pick: Callable[[World], Any], *seen_by: str) -> Check:
    """A list that shows ``pick(world)`` to the roles ``seen_by`` and to no one else."""

    def check(world: World, role: str, response: Any) -> str | None:
        if response.status_code != 200:
            return None
        shown = pick(world).pk in ids_in(response.json())
        if shown != (role in seen_by):
            return f"the list {'shows' if shown else 'hides'} {pick(world)!r}"
        return None

    return check


def bulk_result(*retried_by: str) -> Check:
    """The dead-letter retry answers 200 to all, with each run's fate inside."""

    def check(world: World, role: str, response: Any) -> str | None:
        if response.status_code != 200:
            return None
        got = response.json()["results"][0]["status"]
        wanted = (
            "retried" if role in retried_by else {"charlie": "not_found"}.get(role, "forbidden")
        )
        return None if got == wanted else f"the run's result is {got}, not {wanted}"

    return check


def decided_in_bulk() -> Check:
    """The bulk decision answers 200 to all; the task inside: decided by the runner (its
    assignee), 404 to charlie (no role), 403 to the other roles (they see it, may not act)."""

    def check(world: World, role: str, response: Any) -> str | None:
        if response.status_code != 200:
            return None
        got = response.json()["results"][0]["status"]
        wanted = {"runner": 200, "charlie": 404}.get(role, 403)
        return None if got == wanted else f"the task's status is {got}, not {wanted}"

    return check


VIEWER_AND_UP = ("viewer", "runner", "editor", "owner", "staff")
EDITOR_AND_UP = ("editor", "owner", "staff")
RUNNER_AND_UP = ("runner", "editor", "owner", "staff")


def a_graph(world: World) -> dict[str, Any]:
    return matrix_graph()


def wf_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/workflows/{w.wf.pk}/{suffix}"


def run_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/runs/{w.run.pk}/{suffix}"


def a_step_test() -> dict[str, Any]:
    return {"name": "fails", "node": "work", "expect": [{"kind": "expression", "expression": "1"}]}


def a_rule(world: World, workflow: Workflow | None) -> dict[str, Any]:
    return {
        "name": "late payments",
        "kind": "run_failed",
        "workflow": workflow.pk if workflow else None,
        "emails": ["ops@example.com"],
    }


def task_link_path(world: World) -> str:
    """A link of the world's task, as the runner's email would carry it."""
    from engine.tasklinks import Recipient, issue_links

    recipient = Recipient(address="runner@example.com", user_id=world.users["runner"].pk)
    urls = issue_links(world.task, recipient, timezone.now())
    return urls["approve"].removeprefix(settings.FLOWDECK_BASE_URL)


def an_absence(deputy: str) -> dict[str, Any]:
    now = timezone.now()
    return {
        "starts_at": (now + timedelta(days=60)).isoformat(),
        "ends_at": (now + timedelta(days=61)).isoformat(),
        "deputy": deputy,
    }


def _areas() -> dict[str, list[Rule]]:
    workflow_roles = [
        Rule(
            "workflow-list",
            lambda w: "/api/workflows/?archived=all",
            (
                Case("GET", LOGGED_IN, then=lists(lambda w: w.wf, *VIEWER_AND_UP)),
                Case("POST", LOGGED_IN, body=lambda w: {"name": "new", "graph": a_graph(w)}),
            ),
        ),
        Rule(
            "workflow-import-new",
            lambda w: "/api/workflows/import/?name=imported",
            (Case("POST", LOGGED_IN, body=a_graph),),
        ),
        # Each caller gets the examples it does not have yet, as its own.
        Rule("workflow-examples", lambda w: "/api/workflows/examples/", (Case("POST", LOGGED_IN),)),
        Rule(
            "workflow-validate",
            lambda w: "/api/workflows/validate/",
            (Case("POST", LOGGED_IN, body=lambda w: {"graph": a_graph(w)}),),
        ),
        Rule(
            "workflow-detail",
            wf_url(),
            (
                Case("GET", needs(Role.VIEWER)),
                Case(
                    "PUT",
                    needs(Role.EDITOR),
                    body=lambda w: {"graph": a_graph(w), "base_version": w.wf.latest_version},
                ),
                Case("PATCH", needs(Role.EDITOR), body=lambda w: {"name": "renamed"}),
                Case("PATCH", needs(Role.OWNER), body=lambda w: {"archived": True}, note="archive"),
                Case("DELETE", needs(Role.OWNER)),
            ),
        ),
        Rule(
            "workflow-preview",
            wf_url("preview/"),
            (Case("POST", needs(Role.VIEWER), body=lambda w: {"source": "{{ input }}"}),),
        ),
        Rule("workflow-pins", wf_url("pins/"), (Case("GET", needs(Role.VIEWER)),)),
        Rule(
            "workflow-pin",
            wf_url("pins/work/"),
            (
                Case("PUT", needs(Role.EDITOR), body=lambda w: {"output": {"paid": True}}),
                Case("DELETE", needs(Role.EDITOR)),
            ),
        ),
        Rule(
            "workflow-test-runs",
            wf_url("test-runs/"),
            (
                Case(
                    "POST", needs(Role.EDITOR), body=lambda w: {"graph": a_graph(w), "node": "work"}
                ),
            ),
        ),
        Rule(
            "workflow-step-tests",
            wf_url("tests/"),
            (
                Case("GET", needs(Role.VIEWER)),
                Case("POST", needs(Role.EDITOR), body=lambda w: a_step_test()),
            ),
        ),
        Rule(
            "workflow-step-test",
            lambda w: f"/api/workflows/{w.wf.pk}/tests/{w.wf.step_tests.get().pk}/",
            (
                Case("GET", needs(Role.VIEWER)),
                Case("PUT", needs(Role.EDITOR), body=lambda w: a_step_test()),
                Case("DELETE", needs(Role.EDITOR)),
            ),
        ),
        # names [] runs none: without workers (the matrix has none) a run would wait its
        # timeout; the tests that run cases are in tests/test_step_tests.py.
        Rule(
            "workflow-run-step-tests",
            wf_url("tests/run/"),
            (Case("POST", needs(Role.EDITOR), body=lambda w: {"names": []}),),
        ),
        Rule("workflow-export", wf_url("export/?format=yaml"), (Case("GET", needs(Role.VIEWER)),)),
        Rule(
            "workflow-grants",
            wf_url("grants/"),
            (
                Case("GET", needs(Role.VIEWER)),
                Case(
                    "POST", needs(Role.OWNER), body=lambda w: {"user": "charlie", "role": "viewer"}
                ),
            ),
        ),
        Rule(
            "workflow-revoke",
            lambda w: f"/api/workflows/{w.wf.pk}/grants/{w.wf_grant.pk}/",
            (Case("DELETE", needs(Role.OWNER)),),
        ),
        Rule(
            "workflow-import-version",
            wf_url("import/"),
            (Case("POST", needs(Role.EDITOR), body=a_graph),),
        ),
        Rule("workflow-versions", wf_url("versions/"), (Case("GET", needs(Role.VIEWER)),)),
        Rule("workflow-version", wf_url("versions/1/"), (Case("GET", needs(Role.VIEWER)),)),
        Rule(
            "workflow-runs",
            wf_url("runs/"),
            (
                Case("GET", needs(Role.VIEWER)),
                Case("POST", needs(Role.RUNNER), body=lambda w: {"input": {"approver": "runner"}}),
            ),
        ),
        Rule(
            "workflow-schedule",
            lambda w: f"/api/workflows/{w.scheduled.pk}/schedule/",
            (
                Case("GET", needs(Role.VIEWER)),
                Case("PATCH", needs(Role.RUNNER), body=lambda w: {"paused": True}),
            ),
        ),
        Rule("workflow-webhook", wf_url("webhook/"), (Case("GET", needs(Role.EDITOR)),)),
        Rule(
            "workflow-webhook-rotate",
            wf_url("webhook/rotate/"),
            (Case("POST", needs(Role.EDITOR)),),
        ),
    ]
    runs = [
        Rule(
            "run-list",
            lambda w: "/api/runs/",
            (Case("GET", LOGGED_IN, then=lists(lambda w: w.run, *VIEWER_AND_UP)),),
        ),
        Rule("run-detail", run_url(), (Case("GET", needs(Role.VIEWER)),)),
        Rule("run-events", run_url("events/"), (Case("GET", needs(Role.VIEWER)),)),
        Rule(
            "run-cancel", run_url("cancel/"), (Case("POST", needs(Role.RUNNER), body=lambda w: {}),)
        ),
        Rule(
            "run-replay",
            run_url("replay/"),
            (Case("POST", needs(Role.RUNNER), body=lambda w: {"reason": "fixed"}),),
        ),
        Rule(
            "step-retry",
            run_url("steps/work/retry/"),
            (Case("POST", needs(Role.RUNNER), body=lambda w: {}),),
        ),
        Rule(
            "step-skip",
            run_url("steps/work/skip/"),
            (Case("POST", needs(Role.RUNNER), body=lambda w: {}),),
        ),
        Rule("step-logs", run_url("steps/work/logs/"), (Case("GET", needs(Role.VIEWER)),)),
        Rule(
            "run-compare",
            lambda w: f"/api/runs/compare/?a={w.run.pk}&b={w.failed_run.pk}",
            (Case("GET", needs(Role.VIEWER)),),
        ),
        Rule(
            "step-compare",
            run_url("steps/work/compare/?a=1&b=1"),
            (Case("GET", needs(Role.VIEWER)),),
        ),
        Rule(
            "stats",
            lambda w: "/api/stats/",
            (
                Case("GET", LOGGED_IN),
                # A workflow one may not see is a 400, like one that does not exist (docs/runs/).
                Case(
                    "GET",
                    but(needs(Role.VIEWER), charlie=400),
                    path=lambda w: f"/api/stats/?workflow={w.wf.pk}",
                    note="of one workflow",
                ),
            ),
        ),
        Rule(
            "schedule-preview",
            lambda w: "/api/schedules/preview/",
            (Case("POST", LOGGED_IN, body=lambda w: {"cron": "0 9 * * 1-5"}),),
        ),
    ]
    # The task is the runner's by name: only an assignee decides or delegates; a role on the
    # workflow lets one see it (403 for acting on it), no role at all is 404.
    task_actor = {**everyone(403), "anonymous": 401, "charlie": 404, "runner": OK}
    task_writer = but(needs(Role.EDITOR), runner=OK)
    approvals = [
        Rule(
            "approval-list",
            lambda w: "/api/approvals/",
            (Case("GET", LOGGED_IN, then=lists(lambda w: w.task, "runner")),),
        ),
        Rule(
            "approval-detail",
            lambda w: f"/api/approvals/{w.task.pk}/",
            (Case("GET", needs(Role.VIEWER)),),
        ),
        Rule(
            "approval-decide",
            lambda w: f"/api/approvals/{w.task.pk}/decide/",
            (Case("POST", task_actor, body=lambda w: {"decision": "approve"}),),
        ),
        # Everyone may ask; what each task gets is inside, as a single decide would answer.
        Rule(
            "approval-bulk-decide",
            lambda w: "/api/approvals/bulk-decide/",
            (
                Case(
                    "POST",
                    LOGGED_IN,
                    body=lambda w: {"tasks": [w.task.pk], "decision": "approve"},
                    then=decided_in_bulk(),
                ),
            ),
        ),
        Rule(
            "approval-delegate",
            lambda w: f"/api/approvals/{w.task.pk}/delegate/",
            (Case("POST", task_actor, body=lambda w: {"to": "charlie"}),),
        ),
        # The discussion: who sees the task reads it; its assignee and the workflow's editors
        # write (engine/discussion.py).
        Rule(
            "approval-comments",
            lambda w: f"/api/approvals/{w.task.pk}/comments/",
            (
                Case("GET", needs(Role.VIEWER)),
                Case("POST", task_writer, body=lambda w: {"body": "see @runner"}),
            ),
        ),
        Rule(
            "approval-attachments",
            lambda w: f"/api/approvals/{w.task.pk}/attachments/",
            # A JSON body has no file: the writers get 400 about it, the others their refusal.
            (Case("GET", needs(Role.VIEWER)), Case("POST", task_writer)),
        ),
        Rule(
            "approval-attachment",
            lambda w: f"/api/approvals/{w.task.pk}/attachments/{w.attachment.pk}/",
            (Case("GET", needs(Role.VIEWER)),),
        ),
    ]
    alerts = [
        Rule(
            "alert-rule-list",
            lambda w: "/api/alerts/rules/",
            (
                Case("GET", LOGGED_IN, then=lists(lambda w: w.rule, *EDITOR_AND_UP)),
                # Naming a workflow one cannot see is the serializer's "no such object" (400).
                Case("POST", but(needs(Role.EDITOR), charlie=400), body=lambda w: a_rule(w, w.wf)),
                Case(
                    "POST",
                    but(everyone(403), anonymous=401, staff=OK),
                    body=lambda w: a_rule(w, None),
                    note="a global rule",
                ),
            ),
        ),
        Rule(
            "alert-rule-detail",
            lambda w: f"/api/alerts/rules/{w.rule.pk}/",
            (
                Case("GET", needs(Role.EDITOR)),
                Case("PUT", needs(Role.EDITOR), body=lambda w: a_rule(w, w.wf)),
                Case("PATCH", needs(Role.EDITOR), body=lambda w: {"enabled": False}),
                Case("DELETE", needs(Role.EDITOR)),
                Case(
                    "GET",
                    STAFF_ONLY,
                    path=lambda w: f"/api/alerts/rules/{w.global_rule.pk}/",
                    note="a global rule",
                ),
                Case(
                    "PATCH",
                    STAFF_ONLY,
                    path=lambda w: f"/api/alerts/rules/{w.global_rule.pk}/",
                    body=lambda w: {"enabled": False},
                    note="a global rule",
                ),
            ),
        ),
        Rule(
            "alert-list",
            lambda w: "/api/alerts/",
            (Case("GET", LOGGED_IN, then=lists(lambda w: w.alert, *VIEWER_AND_UP)),),
        ),
        Rule(
            "alert-resolve",
            lambda w: f"/api/alerts/{w.alert.pk}/resolve/",
            (
                Case("POST", needs(Role.RUNNER)),
                Case(
                    "POST",
                    STAFF_ONLY,
                    path=lambda w: f"/api/alerts/{w.global_alert.pk}/resolve/",
                    note="of a global rule",
                ),
            ),
        ),
        Rule(
            "dead-letter-list",
            lambda w: "/api/runs/dead-letter/",
            (Case("GET", LOGGED_IN, then=lists(lambda w: w.failed_run, *VIEWER_AND_UP)),),
        ),
        Rule(
            "dead-letter-retry",
            lambda w: "/api/runs/dead-letter/retry/",
            (
                Case(
                    "POST",
                    LOGGED_IN,
                    body=lambda w: {"runs": [w.failed_run.pk]},
                    then=bulk_result(*RUNNER_AND_UP),
                ),
            ),
        ),
    ]
    credentials = [
        Rule(
            "credential-list",
            lambda w: "/api/credentials/",
            (
                Case("GET", LOGGED_IN, then=lists(lambda w: w.credential, *VIEWER_AND_UP)),
                Case(
                    "POST",
                    LOGGED_IN,
                    body=lambda w: {"name": "new-secret", "kind": "secret", "data": {"value": "s"}},
                ),
            ),
        ),
        Rule("credential-kinds", lambda w: "/api/credentials/kinds/", (Case("GET", LOGGED_IN),)),
        # Circuit breakers: seen with a role on their credential, closed by its editors.
        Rule(
            "breaker-list",
            lambda w: "/api/breakers/",
            (Case("GET", LOGGED_IN, then=lists(lambda w: w.breaker, *VIEWER_AND_UP)),),
        ),
        Rule(
            "breaker-close",
            lambda w: f"/api/breakers/{w.breaker.pk}/close/",
            (Case("POST", needs(Role.EDITOR)),),
        ),
        Rule(
            "credential-detail",
            lambda w: f"/api/credentials/{w.credential.pk}/",
            (
                Case("GET", needs(Role.VIEWER)),
                Case("PATCH", needs(Role.EDITOR), body=lambda w: {"description": "the PSP"}),
                Case("DELETE", needs(Role.OWNER)),
            ),
        ),
        Rule(
            "credential-grants",
            lambda w: f"/api/credentials/{w.credential.pk}/grants/",
            (
                Case("GET", needs(Role.VIEWER)),
                Case(
                    "POST", needs(Role.OWNER), body=lambda w: {"user": "charlie", "role": "runner"}
                ),
            ),
        ),
        Rule(
            "credential-grant-detail",
            lambda w: f"/api/credentials/{w.credential.pk}/grants/{w.credential_grant.pk}/",
            (Case("DELETE", needs(Role.OWNER)),),
        ),
    ]
    others = [
        # No login: the token in the URL is the credential, whoever sends it.
        Rule(
            "webhook-hook",
            lambda w: f"/api/hooks/{w.token}/",
            (
                Case("POST", everyone(202), body=lambda w: {"approver": "runner"}),
                Case(
                    "POST",
                    everyone(404),
                    path=lambda w: "/api/hooks/" + "x" * 43 + "/",
                    body=lambda w: {},
                    note="an unknown token",
                ),
            ),
        ),
        Rule("api-root", lambda w: "/api/", (Case("GET", LOGGED_IN),)),
        Rule("api-me", lambda w: "/api/me/", (Case("GET", LOGGED_IN),)),
        Rule("api-schema", lambda w: "/api/schema/", (Case("GET", LOGGED_IN),)),
        Rule("api-docs", lambda w: "/api/docs/", (Case("GET", LOGGED_IN),)),
        Rule("step-types", lambda w: "/api/step-types/", (Case("GET", LOGGED_IN),)),
        Rule(
            "login",
            lambda w: "/login/",
            (
                Case("GET", OPEN),
                Case(
                    "POST", OPEN, body=lambda w: {"username": "alice", "password": "alice-pass-123"}
                ),
                # Django's form views take a PUT as a POST.
                Case(
                    "PUT", OPEN, body=lambda w: {"username": "alice", "password": "alice-pass-123"}
                ),
            ),
        ),
        # Whoever it was, the answer is the login page.
        Rule("logout", lambda w: "/logout/", (Case("POST", everyone(LOGIN)),)),
        # 200, or 503 while no worker runs; no login either way.
        Rule("healthz", lambda w: "/healthz", (Case("GET", everyone(frozenset({200, 503}))),)),
        # Without FLOWDECK_METRICS_TOKEN or _ALLOW: staff sessions only; others 403.
        Rule(
            "metrics",
            lambda w: "/metrics",
            (Case("GET", but(everyone(403), anonymous=401, staff=OK)),),
        ),
        Rule("app", lambda w: "/", (Case("GET", PAGE),)),
        # The documentation site, a page like the app's (the test gives it a built site).
        Rule(
            "docs",
            lambda w: "/docs/",
            tuple(
                Case("GET", PAGE, path=lambda w, p=p: p, note=p)
                for p in ("/docs/", "/docs/runs/", "/docs/assets/main.css")
            ),
        ),
        Rule(
            r"^(?P<route>workflows|designer|runs|inbox|dashboard|credentials|people|account)(?:/.*)?$",
            lambda w: "/designer",
            tuple(
                Case("GET", PAGE, path=lambda w, p=p: p, note=p)
                for p in (
                    "/workflows",
                    "/designer",
                    "/runs/42",
                    "/inbox",
                    "/dashboard",
                    "/credentials",
                    "/people",
                    "/account",
                )
            ),
        ),
    ]
    new_user = {"username": "newbie", "password_setup": "link"}

    def user_url(suffix: str = "") -> Callable[[World], str]:
        return lambda w: f"/api/users/{w.users['viewer'].pk}/{suffix}"

    def group_url(suffix: str = "") -> Callable[[World], str]:
        return lambda w: f"/api/groups/{w.group.pk}/{suffix}"

    people = [
        Rule(
            "user-list",
            lambda w: "/api/users/",
            (
                Case("GET", STAFF),
                Case("POST", STAFF, body=lambda w: new_user),
            ),
        ),
        Rule(
            "user-detail",
            user_url(),
            (Case("GET", STAFF), Case("PATCH", STAFF, body=lambda w: {"first_name": "Vi"})),
        ),
        Rule("user-deactivate", user_url("deactivate/"), (Case("POST", STAFF),)),
        Rule("user-reactivate", user_url("reactivate/"), (Case("POST", STAFF),)),
        Rule(
            "user-password",
            user_url("password/"),
            (Case("POST", STAFF, body=lambda w: {"password_setup": "one_time"}),),
        ),
        Rule(
            "group-list",
            lambda w: "/api/groups/",
            (Case("GET", STAFF), Case("POST", STAFF, body=lambda w: {"name": "newcomers"})),
        ),
        Rule(
            "group-detail",
            group_url(),
            (
                Case("GET", STAFF),
                Case("PATCH", STAFF, body=lambda w: {"name": "reviewers-2"}),
                Case("DELETE", STAFF),
            ),
        ),
        Rule(
            "group-members",
            group_url("members/"),
            (Case("POST", STAFF, body=lambda w: {"usernames": ["charlie"]}),),
        ),
        Rule(
            "group-member",
            lambda w: f"/api/groups/{w.group.pk}/members/{w.users['viewer'].pk}/",
            (Case("DELETE", STAFF),),
        ),
        # Everyone has tokens of their own; only staff see or revoke somebody else's, and to
        # anyone else another's token does not exist.
        Rule(
            "token-list",
            lambda w: "/api/tokens/",
            (
                Case("GET", LOGGED_IN, then=lists(lambda w: w.api_token, "owner")),
                Case(
                    "GET",
                    STAFF,
                    path=lambda w: "/api/tokens/?all=true",
                    then=lists(lambda w: w.api_token, "staff"),
                    note="everyone's",
                ),
                Case(
                    "GET",
                    but(STAFF, owner=OK),
                    path=lambda w: "/api/tokens/?user=alice",
                    then=lists(lambda w: w.api_token, "owner", "staff"),
                    note="the owner's",
                ),
                Case("POST", LOGGED_IN, body=lambda w: {"name": "a script"}),
            ),
        ),
        Rule(
            "token-detail",
            lambda w: f"/api/tokens/{w.api_token.pk}/",
            (Case("DELETE", {**everyone(404), "anonymous": 401, "owner": OK, "staff": OK}),),
        ),
    ]
    # Out of office: one's own absences; staff anyone's; another's is 404 to the rest.
    people += [
        Rule(
            "absence-list",
            lambda w: "/api/account/absences/",
            (
                Case("GET", LOGGED_IN, then=lists(lambda w: w.absence, "owner")),
                Case(
                    "GET",
                    but(STAFF, owner=OK),
                    path=lambda w: "/api/account/absences/?user=alice",
                    then=lists(lambda w: w.absence, "owner", "staff"),
                    note="the owner's",
                ),
                Case("POST", LOGGED_IN, body=lambda w: an_absence("editor")),
                Case(
                    "POST",
                    but(STAFF, owner=OK),
                    body=lambda w: {**an_absence("editor"), "user": "alice"},
                    note="for the owner",
                ),
            ),
        ),
        Rule(
            "absence-detail",
            lambda w: f"/api/account/absences/{w.absence.pk}/",
            (Case("DELETE", {**everyone(404), "anonymous": 401, "owner": OK, "staff": OK}),),
        ),
    ]
    wrong_password = {
        "old_password": "not-it",
        "new_password1": "a-new-pass-123",
        "new_password2": "a-new-pass-123",
    }
    dead_link = "/set-password/MQ/not-a-token/"
    pages = [
        # A page to change one's password: a wrong current password shows the form again.
        Rule(
            "change-password",
            lambda w: "/change-password/",
            tuple(Case(method, PAGE, body=lambda w: wrong_password) for method in ("GET", "POST")),
        ),
        # The link is the credential, whoever opens it: a dead one says so, to everyone.
        Rule(
            "set-password",
            lambda w: dead_link,
            tuple(
                Case(method, OPEN, body=lambda w: {"new_password1": "x"})
                for method in ("GET", "POST")
            ),
        ),
        Rule("set-password-done", lambda w: "/set-password/done/", (Case("GET", OPEN),)),
        # An email's signed link (engine/tasklinks.py) is reachable without login on purpose:
        # the signed token is what opens it. The world's workflow keeps the default policy
        # (email_links "login"), so a visitor is sent to log in, the recipient (the runner)
        # gets the page, and anyone else logged in is refused: the link is not theirs.
        Rule(
            "task-link",
            task_link_path,
            tuple(
                Case(method, {**everyone(403), "anonymous": LOGIN, "runner": OK}, body=comment)
                for method, comment in (("GET", None), ("POST", lambda w: {"comment": "ok"}))
            )
            + (
                Case(
                    "GET",
                    everyone(400),
                    path=lambda w: "/tasks/act/" + "x" * 20 + ":1a:" + "y" * 43 + "/",
                    note="a token that is not ours: refused to all, login or not",
                ),
            ),
        ),
    ]
    return {
        "people": people,
        "pages": pages,
        "workflows": workflow_roles,
        "runs": runs,
        "approvals": approvals,
        "alerts": alerts,
        "credentials": credentials,
        "others": others,
    }


# One test per area: seeding the world costs more than asking it a hundred questions.
AREAS: dict[str, list[Rule]] = _areas()
RULES: dict[str, Rule] = {rule.key: rule for rules in AREAS.values() for rule in rules}


# --- Asking -------------------------------------------------------------------------------------


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    """The API takes JSON; pages (the login form) take form fields."""
    call = getattr(client, method.lower())
    if method in ("GET", "HEAD", "OPTIONS"):
        return call(path)
    if path.startswith("/api/"):
        return call(path, json.dumps({} if body is None else body), content_type="application/json")
    if method == "POST":
        return call(path, body or {})
    form = "&".join(f"{name}={value}" for name, value in (body or {}).items())
    return call(path, form, content_type="application/x-www-form-urlencoded")


class Callers:
    """Asks the world's URLs as each role, each request's changes rolled back so that every
    role meets the same world. One test client per role, reused: a client's first request
    builds the middleware chain, and WhiteNoise's scan of every static file costs more than
    the request."""

    def __init__(self, world: World, **options: Any) -> None:
        self.world = world
        self.options = options
        self.clients: dict[str, Client] = {}

    def client(self, role: str) -> Client:
        client = self.clients.setdefault(role, Client(**self.options))
        client.cookies.clear()  # whatever the last request did (a logout, a login)
        user = self.world.users[role]
        if user is not None:
            client.force_login(user)
        return client

    def ask(self, role: str, method: str, path: str, body: Any = None) -> Any:
        with transaction.atomic():
            response = send(self.client(role), method, path, body)
            transaction.set_rollback(True)
        return response


def describe(response: Any) -> str:
    text = f"{response.status_code}"
    if response.status_code in (301, 302, 303, 307, 308):
        text += f" to {response['Location']}"
    elif response.get("Content-Type", "").startswith("application/json"):
        text += f" {response.content[:160].decode(errors='replace')}"
    return text


# --- Sockets -------------------------------------------------------------------------------------

ACCEPTED = "accepted"


@dataclass(frozen=True)
class SocketRule:
    key: str  # the route's text in flowdeck.routing
    path: Callable[[World], str]
    expect: dict[str, str | int]
    note: str = ""


def socket_rules() -> list[SocketRule]:
    logged_in = {**everyone(ACCEPTED), "anonymous": 4401}
    may_see = {**logged_in, "charlie": 4403}
    return [
        SocketRule("ws/runs/", lambda w: "/ws/runs/", logged_in),
        SocketRule("ws/inbox/", lambda w: "/ws/inbox/", logged_in),
        SocketRule("ws/runs/<int:run_id>/", lambda w: f"/ws/runs/{w.run.pk}/?after=0", may_see),
        SocketRule(
            "ws/workflows/<int:workflow_id>/", lambda w: f"/ws/workflows/{w.wf.pk}/", may_see
        ),
        SocketRule(
            "ws/workflows/<int:workflow_id>/",
            lambda w: "/ws/workflows/999999/",
            {**everyone(4403), "anonymous": 4401},
            note="an unknown workflow",
        ),
        # No such run: refused like a run one may not see.
        SocketRule(
            "ws/runs/<int:run_id>/",
            lambda w: "/ws/runs/999999/",
            {**everyone(4403), "anonymous": 4401},
            note="an unknown run",
        ),
    ]


# --- The URL conf --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # the URL name, or the pattern's text when it has none
    text: str  # the whole pattern, prefixes included
    callback: Any
    namespace: str | None


def endpoints() -> list[Endpoint]:
    """Every URL pattern of the URL conf, included ones and DRF's routers too."""
    found: list[Endpoint] = []

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text, pattern.namespace or namespace)
            else:
                key = pattern.name or text
                found.append(Endpoint(key, text, pattern.callback, namespace))

    walk(get_resolver().url_patterns, "", None)
    return found


def admin_path(text: str, world: World) -> str:
    """A real URL for an admin pattern: its model's first row where it takes an object."""
    if text.startswith("admin/r/"):
        content_type = ContentType.objects.get_for_model(Workflow)
        return f"/admin/r/{content_type.pk}/{world.wf.pk}/"
    if text == "admin/autocomplete/":
        query = "app_label=designer&model_name=workflowgrant&field_name=user&term=a"
        return f"/admin/autocomplete/?{query}"
    if "(?P<app_label>" in text:
        return "/admin/designer/"
    if "(?P<url>" in text:
        return "/admin/nothing-here/"
    if "<" in text:
        parts = text.split("/")
        row = apps.get_model(parts[1], parts[2]).objects.order_by("pk").first()
        pk = row.pk if row is not None else 1  # none: the admin says so on its index page
        text = text.replace("<path:object_id>", str(pk)).replace("<id>", str(pk))
    return "/" + text


IGNORED_METHODS = frozenset({"options", "head", "trace"})


def methods_of(callback: Any) -> set[str] | None:
    """The methods a view answers, from the view class (DRF's viewset actions, an APIView's or
    a Django class-based view's handlers); None for a plain function view."""
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions if method not in IGNORED_METHODS}
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:
        return None
    return {
        method.upper()
        for method in view.http_method_names
        if method not in IGNORED_METHODS and hasattr(view, method)
    }
