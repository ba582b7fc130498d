"""What a workflow is: a named, shared definition with an immutable history of versions."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class Role(models.TextChoices):
    """What a person may do with one workflow; each role includes the ones before it."""

    VIEWER = "viewer", "Viewer"
    RUNNER = "runner", "Runner"
    EDITOR = "editor", "Editor"
    OWNER = "owner", "Owner"


ROLE_RANK = {Role.VIEWER: 1, Role.RUNNER: 2, Role.EDITOR: 3, Role.OWNER: 4}


class Workflow(models.Model):
    """A workflow definition. Its graph lives in versions; saving adds one."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_workflows"
    )
    archived = models.BooleanField(default=False)
    # The newest version's number (0 before the first). Saves compare-and-set it under a row
    # lock, which is how a stale save is detected.
    latest_version = models.PositiveIntegerField(default=0)
    # At most this many runs running or waiting at once; more wait queued. None: no limit.
    max_concurrent_runs = models.PositiveIntegerField(null=True, blank=True)
    # Pinned step outputs, {node id: {"output", "handle", "pinned_by", "pinned_at"}}: test runs
    # take them instead of running the step (issue 18). With the workflow, not in its versions:
    # they are the builder's fixtures, not part of what runs in production.
    pins = models.JSONField(default=dict, blank=True)
    # Saving a version first runs the workflow's step tests against it and is refused while
    # one fails (issue 18, designer.services.do_save_version).
    require_tests = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["archived", "-updated_at"], name="workflow_list"),
            models.Index(fields=["owner", "archived"], name="workflow_owner"),
            models.Index(fields=["name"], name="workflow_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ImmutableVersionError(Exception):
    pass


def trigger_type_of(graph: object) -> str:
    """The type of a graph's first ``trigger.*`` node ("" for none: a graph never valid)."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        kind = node.get("type") if isinstance(node, dict) else None
        if isinstance(kind, str) and kind.startswith("trigger."):
            return kind[:64]
    return ""


class WorkflowVersion(models.Model):
    """One saved graph. Written once, never edited or deleted: runs pin it.

    A row without a number is not a version: it is the snapshot of a draft that a test run
    (issue 18) ran, never listed with the versions, deleted with its test runs."""

    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(null=True, blank=True)
    graph = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    # The type of the graph's trigger node, kept beside the graph so that the workflows list
    # shows it without reading (and decoding) every graph.
    trigger_type = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="one_version_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableVersionError("a workflow version is never changed; save a new one")
        self.trigger_type = trigger_type_of(self.graph)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersionError("a workflow version is never deleted")


class RoleGrant(models.Model):
    """A role given to a user or to a group (exactly one) on some object: a workflow here, a
    credential in connectors/. Subclasses add the object's foreign key and ``grant_rules``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


def grant_rules(target: str, one_of: str, per_user: str, per_group: str) -> list:
    """The constraints of a RoleGrant on ``target``: a user or a group, and one grant per user
    (or group) and object. The names are the caller's, as its migrations know them."""
    return [
        models.CheckConstraint(
            condition=(
                models.Q(user__isnull=False, group__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False)
            ),
            name=one_of,
        ),
        models.UniqueConstraint(
            fields=[target, "user"], condition=models.Q(user__isnull=False), name=per_user
        ),
        models.UniqueConstraint(
            fields=[target, "group"], condition=models.Q(group__isnull=False), name=per_group
        ),
    ]


class WorkflowGrant(RoleGrant):
    """A role on one workflow, given by its owner to a user or to a group."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="grants")

    class Meta:
        constraints = grant_rules(
            "workflow", "grant_to_user_or_group", "one_grant_per_user", "one_grant_per_group"
        )

    def __str__(self) -> str:
        return f"{self.user or self.group} is {self.role} of {self.workflow}"


class DesignerPresence(models.Model):
    """One open designer socket on a workflow (``/ws/workflows/{id}/``): who has it open, since
    when, and when the socket last said it is alive. A row, not a process's memory, so every
    web process sees every socket; a row whose process died without a goodbye stops counting
    once ``seen_at`` is older than ``designer.presence.EXPIRES``, and is then deleted."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The socket's channel name in the channel layer: unique across processes.
    channel = models.CharField(max_length=200, unique=True)
    since = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["workflow", "seen_at"], name="presence_seen")]

    def __str__(self) -> str:
        return f"{self.user} on {self.workflow_id}"


class StepTest(models.Model):
    """A named test case of one step (issue 18): run ``node`` with the steps above it given
    ``data`` (their outputs, by node id) and nothing else (no pins, no recent runs), then check
    its output against ``expect``: a list of ``{"kind": "equals", "value"}``,
    ``{"kind": "schema", "schema"}`` (JSON Schema 2020-12) or ``{"kind": "expression",
    "expression"}`` (must be true). Kept with the workflow, like pins, not in its versions: a
    version is tested against the tests of the day."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="step_tests")
    name = models.CharField(max_length=200)
    node = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    # The run's input; None: the input_schema's first example, else what a manual start gets.
    input = models.JSONField(null=True, blank=True)
    expect = models.JSONField(default=list)
    # Steps with outside effects (an http.request that writes) run only when this says so;
    # emails are always captured.
    confirm_effects = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workflow", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="one_step_test_name")
        ]

    def __str__(self) -> str:
        return f"{self.workflow}: {self.name}"
