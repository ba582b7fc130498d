"""Schemathesis over the API (issue 10, item 5): requests generated from the committed OpenAPI
schema (flowdeck/openapi.yaml, which the CI checks is what /api/schema/ serves), valid and
invalid, sent by a logged-in owner. No answer may be a 5xx, and every answer must match the
schema: a documented status code and content type, a body of the documented shape; bad input
is refused (4xx) and an operation that needs a login refuses a request without one.

The requests go to Django's WSGI application in this process, inside the test's transaction:
about 10 ms a request, so many examples fit in the CI's time, and each example's writes are
rolled back (the next one finds the seeded objects as they were). A real daphne would add
only the ASGI server in front of the same views, at ten times the cost a request.

How many examples each operation gets: FLOWDECK_FUZZ_EXAMPLES (docs/operations/testing.md).

Every operation of the schema is fuzzed; nothing is excluded. Outside the schema, so not
here: /api/schema/ and /api/docs/ (the schema itself, which takes no input), /healthz,
/metrics, /admin/, /login/ and the websockets, which have tests of their own. Two checks of
schemathesis are left out, for reasons that are about the check, not about an endpoint:
- ``positive_data_acceptance`` expects every request the schema allows to succeed, but a
  schema cannot say everything the server checks (a cron expression that parses, a graph
  without cycles, a rule's fields that go with its kind): those are refused with 400, rightly.
- The stateful checks (``use_after_free``, ``ensure_resource_availability``) need
  schemathesis' stateful phase, driven by OpenAPI links that the schema does not declare.
Authorization between users (schemathesis' ``object_level_authorization``) is the permission
matrix's business (issue 10, item 7), which knows the roles; here one owner asks.

The webhook receiver (POST /api/hooks/{token}/, an async view) is fuzzed too, through
Django's WSGI handler, which runs async views in an event loop of their own; it is the one
operation without a login (the token in the URL is the credential), so ``ignored_auth``
does not apply to it. ``?wait=`` is capped at 0 s here (nothing runs the runs it starts).
"""

import os
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis import checks as base_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks

from alerts.models import Alert, AlertKind, AlertRule
from connectors.credentials import do_create_credential, do_grant_credential
from designer.models import Role
from designer.services import do_grant
from tests.engine_kit import build, drive, fn, noop, start, task_of, workflow
from tests.helpers import api_key
from webhooks.models import WebhookEndpoint
from webhooks.services import token_of

SCHEMA = Path(__file__).resolve().parent.parent / "flowdeck" / "openapi.yaml"
# Examples per operation; 25 keeps the module within a minute or so per mode (derandomized:
# the same requests every run), and a long local run is FLOWDECK_FUZZ_EXAMPLES=2000
# (docs/operations/testing.md).
EXAMPLES = int(os.environ.get("FLOWDECK_FUZZ_EXAMPLES", "25"))

APP = get_wsgi_application()
schema = schemathesis.openapi.from_path(SCHEMA)
schema.app = APP  # every request, the checks' own probes too, goes to the app in this process


def lenient_by_design(case: Any) -> bool:
    """Is every change that makes this case invalid one that Django REST framework's string
    fields accept on purpose, the leniencies the API keeps?
    - a number where a string goes is taken as its text (``"reason": 3`` is ``"3"``);
    - whitespace around a string is trimmed before its length is checked, so 5,001 characters
      that start with a space are the 5,000 the schema allows."""
    mutations = getattr(case.meta.phase.data, "mutations", ()) if case.meta else ()

    def sent(m: Any) -> Any:
        """The mutated value as sent: recorded in the mutation, or found in the body."""
        if m.new_value is not None:
            return m.new_value
        value = case.body
        for key in m.path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                body = case.body if isinstance(case.body, dict) else {}
                return body.get(m.parameter)
        return value

    def lenient(m: Any) -> bool:
        if m.keywords == ("type",):
            return m.original_value == "string" and m.new_value in ("integer", "number")
        if m.keywords in (("maxLength",), ("minLength",)):
            text = sent(m)
            return isinstance(text, str) and text != text.strip()
        return False

    return bool(mutations) and all(lenient(m) for m in mutations)


def bad_input_is_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' negative_data_rejection: a request the schema forbids gets a 4xx (but
    see lenient_by_design)."""
    if lenient_by_design(case):
        return None
    return checks.negative_data_rejection(ctx, response, case)


CHECKS = [
    base_checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    bad_input_is_refused,
    checks.ignored_auth,
    checks.missing_required_header,
    checks.unsupported_method,
    checks.allow_header_conformance,
]


@pytest.fixture(scope="module", autouse=True)
def _fuzz_settings():
    """alice and bob are made again for every operation: their passwords are hashed cheaply.
    A webhook request's ``?wait=`` returns at once: no worker runs the runs it starts."""
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        FLOWDECK_WEBHOOK_MAX_WAIT_S=0,
    ):
        yield


@pytest.fixture
def in_process():
    """What Django's own test client does: the requests run inside the test's transaction, so
    the handler must not close the database connection at the end of each."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, alice, bob) -> dict[str, Any]:
    """Real objects for generated ids to land on, all alice's: a run waiting for her approval,
    a run whose step failed, a webhook workflow, a scheduled one, a credential, grants to bob,
    an alert rule and its incident. Returns alice's token and, per path template, the path
    parameters that name real objects."""
    approvals = workflow(
        alice,
        build(
            {
                "start": ("trigger.manual",),
                "ask": ("human.approval", {"title": "Pay?", "assignees": {"users": ["alice"]}}),
                "yes": noop(),
                "no": noop(),
            },
            ["start>ask", "ask.approved>yes", "ask.rejected>no"],
        ),
        name="approvals",
    )
    waiting = start(approvals, actor=alice)
    failing = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "boom": fn("flaky", fail_times=9, retryable=False)},
            ["start>boom"],
        ),
        name="failing",
    )
    failed = start(failing, actor=alice)
    drive()
    task = task_of(waiting)
    hooked = workflow(
        alice,
        build({"start": ("trigger.webhook",), "after": noop()}, ["start>after"]),
        name="hooked",
    )
    scheduled = workflow(
        alice,
        build(
            {"start": ("trigger.schedule", {"cron": "0 9 * * *"}), "after": noop()},
            ["start>after"],
        ),
        name="scheduled",
    )
    credential = do_create_credential(
        actor=alice, name="fuzz-secret", kind="secret", data={"value": "s3cret-value"}
    )
    credential_grant = do_grant_credential(
        actor=alice, credential=credential, role=Role.VIEWER, user=bob
    )
    workflow_grant = do_grant(actor=alice, workflow=approvals, role=Role.VIEWER, user=bob)
    rule = AlertRule.objects.create(
        name="failed", kind=AlertKind.RUN_FAILED, workflow=failing, emails=["ops@example.com"]
    )
    now = timezone.now()
    alert = Alert.objects.create(
        rule=rule,
        key=f"run:{failed.pk}",
        workflow=failing,
        summary="failed",
        opened_at=now,
        last_seen_at=now,
    )
    workflows = [approvals.pk, failing.pk, hooked.pk, scheduled.pk]
    steps = [(waiting.pk, "ask"), (waiting.pk, "start"), (failed.pk, "boom")]
    real: dict[str, list[dict[str, Any]]] = {
        "/api/workflows/{id}/": [{"id": pk} for pk in workflows],
        "/api/workflows/{id}/versions/{number}/": [{"id": pk, "number": 1} for pk in workflows],
        "/api/workflows/{id}/grants/{grant_id}/": [
            {"id": approvals.pk, "grant_id": workflow_grant.pk}
        ],
        "/api/workflows/{workflow_id}/runs/": [{"workflow_id": pk} for pk in workflows],
        "/api/workflows/{workflow_id}/schedule/": [{"workflow_id": scheduled.pk}],
        "/api/workflows/{workflow_id}/webhook/": [{"workflow_id": hooked.pk}],
        "/api/runs/{id}/": [{"id": waiting.pk}, {"id": failed.pk}],
        "/api/runs/{id}/steps/{node}/": [{"id": run, "node": node} for run, node in steps],
        "/api/approvals/{id}/": [{"id": task.pk}],
        "/api/credentials/{id}/": [{"id": credential.pk}],
        "/api/credentials/{id}/grants/{grant_id}/": [
            {"id": credential.pk, "grant_id": credential_grant.pk}
        ],
        "/api/alerts/rules/{id}/": [{"id": rule.pk}],
        "/api/alerts/{id}/": [{"id": alert.pk}],
        "/api/hooks/{token}/": [{"token": token_of(WebhookEndpoint.objects.get(workflow=hooked))}],
    }
    return {"token": api_key(alice), "real": real}


def real_choices(path: str, seeded: dict[str, Any]) -> list[dict[str, Any]]:
    """The path parameters naming seeded objects for the path template ``path``: those of the
    longest known prefix (``/api/runs/{id}/cancel/`` takes a run's)."""
    prefixes = [p for p in seeded["real"] if path.startswith(p)]
    return seeded["real"][max(prefixes, key=len)] if prefixes else []


def path_is_negative(case: Any) -> bool:
    """Does this case make its path invalid on purpose? (Then it keeps its own values.)"""
    component = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    return component is not None and component.mode.is_negative


@schema.parametrize()
@schema.given(data=st.data())
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 100,  # the suite's short run is the same every time
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_api_answers_every_request_as_its_schema_says(case, data, seeded, in_process):
    choices = real_choices(case.path, seeded)
    # Three times in four, a real object: most generated ids name nothing (a 404 is all
    # they reach), and the code behind an object is where the bugs are.
    if choices and not path_is_negative(case) and data.draw(st.integers(0, 3), label="real"):
        chosen = data.draw(st.sampled_from(choices), label="object")
        case.path_parameters.update({name: str(value) for name, value in chosen.items()})
    checks_here = CHECKS
    if case.media_type and "json" not in case.media_type:
        # A form or multipart body carries text only: a "negative" null or number arrives as
        # the text "None" or "1", often a valid value, so the other checks apply but not this.
        checks_here = [c for c in CHECKS if c is not bad_input_is_refused]
    # Each example in a savepoint rolled back: the next one finds the seeded objects intact.
    with transaction.atomic():
        case.call_and_validate(
            headers={"Authorization": f"Token {seeded['token']}"}, checks=checks_here
        )
        transaction.set_rollback(True)
