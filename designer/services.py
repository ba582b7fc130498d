"""Every change to workflows goes through these ``do_*`` functions (STYLE 1): each is one
transaction, validates what it writes, and takes the actor keyword-only."""

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.models import User as UserModel
from django.db import IntegrityError, transaction
from django.utils import timezone

from designer.models import Role, StepTest, Workflow, WorkflowGrant, WorkflowVersion
from designer.signals import archived_changed, version_saved
from designer.validation import MAX_GRAPH_BYTES, NODE_ID, validate_graph


class GraphInvalid(Exception):
    """The graph breaks the contract; ``errors`` lists every violation."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} error(s) in the graph")
        self.errors = errors


class GraphTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"the graph is {size} bytes; the limit is {MAX_GRAPH_BYTES}")
        self.size = size


class TestsFailed(Exception):
    """A save refused because the workflow requires its step tests to pass and some fail;
    ``results`` as engine.steptests.run_step_tests gives them."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, results: list[dict[str, Any]]) -> None:
        failed = [r for r in results if not r["passed"]]
        super().__init__(f"{len(failed)} of {len(results)} step test(s) fail")
        self.results = results
        self.failed = failed


class StaleVersion(Exception):
    """A save based on a version that is no longer the newest."""

    def __init__(self, base: int, latest: int) -> None:
        super().__init__(
            f"this edit is based on version {base}, but version {latest} was saved since"
        )
        self.base = base
        self.latest = latest


def check_graph(graph: Any, actor: AbstractBaseUser | None = None) -> None:
    """Raise GraphTooLarge or GraphInvalid; return quietly for a valid graph. With an
    ``actor``, the credentials the graph names must be ones the actor may use."""
    size = len(json.dumps(graph, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_GRAPH_BYTES:
        raise GraphTooLarge(size)
    errors = validate_graph(graph)
    if actor is not None and not errors:
        # Database checks only once the document is sound (names, kinds, access).
        from connectors.credentials import graph_credential_errors

        errors = graph_credential_errors(graph, actor)
    if errors:
        raise GraphInvalid(errors)


@transaction.atomic
def do_create_workflow(
    *, actor: AbstractBaseUser, name: str, description: str = "", graph: Any, note: str = ""
) -> Workflow:
    """A new workflow owned by the actor, with its graph as version 1."""
    check_graph(graph, actor)
    workflow = Workflow.objects.create(
        name=name, description=description, owner=actor, latest_version=1
    )
    version = WorkflowVersion.objects.create(
        workflow=workflow, number=1, graph=graph, author=actor, note=note
    )
    version_saved.send(sender=Workflow, workflow=workflow, version=version, actor=actor)
    return workflow


def do_save_version(
    *,
    actor: AbstractBaseUser,
    workflow: Workflow,
    graph: Any,
    base_version: int | None,
    note: str = "",
    name: str | None = None,
    description: str | None = None,
) -> WorkflowVersion:
    """Save ``graph`` as the next version. ``base_version`` is the version the edit started
    from; when another save came in between, StaleVersion is raised and nothing is written.
    None means "on top of whatever is newest" (imports). A workflow that requires its step
    tests runs them against ``graph`` first (on the workers, waiting for them) and raises
    TestsFailed, writing nothing, when one fails."""
    check_graph(graph, actor)
    latest = Workflow.objects.filter(pk=workflow.pk).values_list("latest_version", flat=True)
    if base_version is not None and base_version != latest.first():
        # Stale already: no need to run the tests (checked again under the lock below).
        raise StaleVersion(base_version, latest.first() or 0)
    # Before the transaction, not in it: the tests' runs must be committed for the workers to
    # run them, and the workflow's row is not held locked while they do.
    check_tests_pass(actor=actor, workflow=workflow, graph=graph)
    return _save_version(
        actor=actor,
        workflow=workflow,
        graph=graph,
        base_version=base_version,
        note=note,
        name=name,
        description=description,
    )


def check_tests_pass(*, actor: AbstractBaseUser, workflow: Workflow, graph: Any) -> None:
    """Raise TestsFailed when the workflow requires its step tests and one fails on ``graph``;
    return quietly when it does not require them or has none."""
    required = Workflow.objects.filter(pk=workflow.pk).values_list("require_tests", flat=True)
    tests = list(StepTest.objects.filter(workflow=workflow).order_by("name"))
    if not required.first() or not tests:
        return
    from engine.steptests import run_step_tests

    results = run_step_tests(actor=actor, workflow=workflow, graph=graph, tests=tests)
    if not all(r["passed"] for r in results):
        raise TestsFailed(results)


@transaction.atomic
def _save_version(
    *,
    actor: AbstractBaseUser,
    workflow: Workflow,
    graph: Any,
    base_version: int | None,
    note: str,
    name: str | None,
    description: str | None,
) -> WorkflowVersion:
    # Lock the workflow row: two saves on one base serialize here, and the second sees the
    # first's number and fails as stale instead of overwriting it.
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if base_version is not None and base_version != locked.latest_version:
        raise StaleVersion(base_version, locked.latest_version)
    number = locked.latest_version + 1
    try:
        # A savepoint, so a lost race on the unique number leaves the transaction usable.
        with transaction.atomic():
            version = WorkflowVersion.objects.create(
                workflow=locked, number=number, graph=graph, author=actor, note=note
            )
    except IntegrityError:
        # Backstop for databases without row locks: the unique (workflow, number) refused it.
        raise StaleVersion(base_version or number - 1, number) from None
    locked.latest_version = number
    fields = ["latest_version", "updated_at"]
    if name is not None:
        locked.name = name
        fields.append("name")
    if description is not None:
        locked.description = description
        fields.append("description")
    locked.save(update_fields=fields)
    version_saved.send(sender=Workflow, workflow=locked, version=version, actor=actor)
    workflow.refresh_from_db()
    return version


UNCHANGED: Any = object()


@transaction.atomic
def do_update_details(
    *,
    actor: AbstractBaseUser,
    workflow: Workflow,
    name: str | None,
    description: str | None,
    max_concurrent_runs: int | None = UNCHANGED,
    require_tests: bool | None = None,
) -> Workflow:
    """Rename, redescribe or limit a workflow, or make its saves require its step tests to
    pass, without a new version of its graph."""
    if name is not None:
        workflow.name = name
    if description is not None:
        workflow.description = description
    if max_concurrent_runs is not UNCHANGED:
        workflow.max_concurrent_runs = max_concurrent_runs
    if require_tests is not None:
        workflow.require_tests = require_tests
    workflow.save(
        update_fields=["name", "description", "max_concurrent_runs", "require_tests", "updated_at"]
    )
    return workflow


@transaction.atomic
def do_set_archived(*, actor: AbstractBaseUser, workflow: Workflow, archived: bool) -> Workflow:
    """Archive (hide from lists, refuse new runs) or restore a workflow; versions stay."""
    workflow.archived = archived
    workflow.save(update_fields=["archived", "updated_at"])
    archived_changed.send(sender=Workflow, workflow=workflow, actor=actor)
    return workflow


@transaction.atomic
def do_grant(
    *,
    actor: AbstractBaseUser,
    workflow: Workflow,
    role: Role,
    user: UserModel | None = None,
    group: Group | None = None,
) -> WorkflowGrant:
    """Give a user or a group a role on the workflow, replacing the one they had."""
    if (user is None) == (group is None):
        raise ValueError("grant to exactly one of user or group")
    grant, _ = WorkflowGrant.objects.update_or_create(
        workflow=workflow, user=user, group=group, defaults={"role": role}
    )
    return grant


@transaction.atomic
def do_revoke(*, actor: AbstractBaseUser, grant: WorkflowGrant) -> None:
    grant.delete()


# Pins a workflow may hold: fixtures for testing, not a data store.
MAX_PINS = 200


class PinRefused(Exception):
    def __init__(self, code: str, message: str, field: str = "output") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@transaction.atomic
def do_pin(
    *, actor: AbstractBaseUser, workflow: Workflow, node: str, output: Any, handle: str = ""
) -> dict[str, Any]:
    """Pin ``output`` as the result of step ``node`` in test runs (issue 18). The node need
    not exist in the newest version: a draft may have added it. Returns the pin."""
    if not NODE_ID.fullmatch(node):
        raise PinRefused("invalid", "a node id is a-z, 0-9 and _, starting with a letter", "node")
    size = len(json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode())
    if size > settings.FLOWDECK_MAX_OUTPUT_BYTES:
        limit = settings.FLOWDECK_MAX_OUTPUT_BYTES
        raise PinRefused("too_large", f"the output is {size} bytes; a step's limit is {limit}")
    # Lock the row: two people pinning two steps at once must not lose one pin.
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    pins = dict(locked.pins or {})
    if node not in pins and len(pins) >= MAX_PINS:
        raise PinRefused("too_many", f"a workflow holds at most {MAX_PINS} pins", "node")
    pin = {
        "output": output,
        "handle": handle,
        "pinned_by": actor.get_username(),
        "pinned_at": timezone.now().isoformat(),
    }
    pins[node] = pin
    # update_fields without updated_at: a pin is no edit of the workflow (the list's order).
    locked.pins = pins
    locked.save(update_fields=["pins"])
    workflow.pins = pins
    return pin


@transaction.atomic
def do_unpin(*, actor: AbstractBaseUser, workflow: Workflow, node: str) -> bool:
    """Remove the pin of ``node``; False when there was none."""
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    pins = dict(locked.pins or {})
    if pins.pop(node, None) is None:
        return False
    locked.pins = pins
    locked.save(update_fields=["pins"])
    workflow.pins = pins
    return True


class StepTestInvalid(Exception):
    """A step test refused; ``errors`` as the API's 400."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


STEP_TEST_FIELDS = ("name", "node", "data", "input", "expect", "confirm_effects")


@transaction.atomic
def do_save_step_test(
    *,
    actor: AbstractBaseUser,
    workflow: Workflow,
    fields: dict[str, Any],
    test: StepTest | None = None,
) -> StepTest:
    """Create a step test of the workflow (``test`` None) or replace one's fields
    (engine/steptests.py says what a case is). StepTestInvalid for bad expectations, a name
    another test has, or one test too many."""
    from engine.steptests import MAX_TESTS, case_errors
    from flowdeck.errors import api_error

    errors = case_errors(fields)
    others = StepTest.objects.filter(workflow=workflow).exclude(pk=getattr(test, "pk", None))
    if others.filter(name=fields["name"]).exists():
        message = f"the workflow has a test named {fields['name']!r} already"
        errors.append(api_error("unique", message, field="name"))
    if test is None and others.count() >= MAX_TESTS:
        message = f"a workflow holds at most {MAX_TESTS} step tests"
        errors.append(api_error("too_many", message, field="name"))
    if errors:
        raise StepTestInvalid(errors)
    if test is None:
        test = StepTest(workflow=workflow, created_by=actor)
    for name in STEP_TEST_FIELDS:
        if name in fields:
            setattr(test, name, fields[name])
    try:
        test.save()
    except IntegrityError:
        # Another request saved a test of this name since the check above.
        message = f"the workflow has a test named {fields['name']!r} already"
        raise StepTestInvalid([api_error("unique", message, field="name")]) from None
    return test


@transaction.atomic
def do_delete_step_test(*, actor: AbstractBaseUser, test: StepTest) -> None:
    test.delete()
