"""The runs and approvals APIs' shapes (CONTRACT §5)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from designer.serializers import ErrorSerializer
from engine.compare import duration_ms
from engine.models import (
    COMMENT_MAX,
    Decision,
    HumanTask,
    Run,
    RunEvent,
    StepLog,
    StepRun,
    TaskAttachment,
    TaskComment,
    TaskDecision,
    TaskDelegation,
    Via,
)
from engine.states import Priority, StepStatus, TaskStatus
from engine.steplogs import LEVELS


class StartRunSerializer(serializers.Serializer):
    input = serializers.JSONField(
        required=False,
        help_text="Checked against the workflow's input_schema. Left out: the input of the "
        "workflow's schedule when it starts with trigger.schedule, else {}.",
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="A version number; the latest when left out."
    )
    idempotency_key = serializers.CharField(
        required=False,
        max_length=200,
        help_text="A second start with the same key returns the first run (200) instead.",
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        help_text="Its steps are taken from the queue before lower ones waiting there; the "
        "workflow's priority (normal unless its graph says) when left out.",
    )


DUE_FROM_HELP = (
    "The start of the current SLA window (when the task was asked, or escalated): a countdown's "
    "share of time left is (due_at - now) / (due_at - due_from). Null without a due time."
)
ESCALATED_TO_HELP = "The groups the task was escalated to; empty before an escalation."
BREACHED_AT_HELP = "When the task last passed its due time (task.overdue); null if never."


class SlaWindowFields(serializers.Serializer):
    """What a countdown needs beside ``due_at``: its window's start, escalation and breach."""

    due_from = serializers.DateTimeField(
        source="sla_window_start", allow_null=True, read_only=True, help_text=DUE_FROM_HELP
    )
    escalated_to = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=ESCALATED_TO_HELP
    )
    breached_at = serializers.DateTimeField(
        allow_null=True, read_only=True, help_text=BREACHED_AT_HELP
    )


class StepTaskSerializer(SlaWindowFields, serializers.ModelSerializer):
    """The open task of a waiting human step, as much as a countdown needs."""

    class Meta:
        model = HumanTask
        fields = ["id", "due_at", "due_from", "escalation_level", "escalated_to", "breached_at"]
        read_only_fields = fields


def load_plan_graph(version_id: int) -> Any:
    from engine.transitions import load_version  # cached per version: no query

    return load_version(version_id).plan_graph


class StepSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    task = serializers.SerializerMethodField(
        help_text="A waiting approval's or form's open task (its due time, SLA window and "
        "escalation); null for other steps."
    )

    class Meta:
        model = StepRun
        fields = [
            "node",
            "type",
            "status",
            "attempt",
            "handle",
            "input",
            "output",
            "error",
            "queued_at",
            "started_at",
            "finished_at",
            "wake_at",
            "task",
            "compensates",
            "compensated_by",
        ]

    compensates = serializers.SerializerMethodField(
        help_text="On a compensation step: the node it undoes; null for other steps."
    )
    compensated_by = serializers.SerializerMethodField(
        help_text="On a step that was undone: its compensation node (once that step ran or "
        "was queued); null otherwise."
    )

    @staticmethod
    def _plan_graph(step: StepRun) -> Any:
        return load_plan_graph(step.run.version_id)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_compensates(self, step: StepRun) -> str | None:
        return self._plan_graph(step).compensates.get(step.node_id)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_compensated_by(self, step: StepRun) -> str | None:
        compensation = self._plan_graph(step).compensation.get(step.node_id)
        if compensation is None or step.status != StepStatus.SUCCEEDED:
            return None
        attempts = self.context.get("attempts")
        if attempts is None:
            attempts = dict(
                StepRun.objects.filter(run_id=step.run_id, node_id=compensation).values_list(
                    "node_id", "attempt"
                )
            )
        return compensation if attempts.get(compensation, 0) > 0 else None

    @extend_schema_field(StepTaskSerializer(allow_null=True))
    def get_task(self, step: StepRun) -> dict[str, Any] | None:
        if step.status != StepStatus.WAITING or not step.type.startswith("human."):
            return None
        tasks = self.context.get("open_tasks")
        if tasks is not None:
            # The run's open tasks, read once for all its steps (run_detail_data).
            task = tasks.get(step.pk)
        else:
            open_tasks = HumanTask.objects.filter(step=step, status=TaskStatus.OPEN)
            task = open_tasks.order_by("-id").first()
        return StepTaskSerializer(task).data if task is not None else None


class LogLineSerializer(serializers.Serializer):
    t = serializers.DateTimeField(help_text="When the step wrote the line.")
    level = serializers.ChoiceField(choices=LEVELS)
    message = serializers.CharField(help_text="Secrets masked; cut at 2,000 characters.")


class AttemptLogSerializer(serializers.ModelSerializer):
    lines = LogLineSerializer(many=True)
    dropped = serializers.IntegerField(
        help_text="Lines over the caps (the first 100 and the last 100 are kept), not stored."
    )
    dropped_at = serializers.IntegerField(
        allow_null=True, help_text="The index in lines where the dropped ones were."
    )

    class Meta:
        model = StepLog
        fields = ["attempt", "lines", "dropped", "dropped_at"]


class StepLogsSerializer(serializers.Serializer):
    node = serializers.CharField()
    attempt = serializers.IntegerField(help_text="The step's current attempt.")
    attempts = AttemptLogSerializer(
        many=True, help_text="The attempts that logged, oldest first (the last 5 kept)."
    )


class RunSerializer(serializers.ModelSerializer):
    workflow_name = serializers.CharField(source="workflow.name", read_only=True)
    version = serializers.IntegerField(
        source="version.number",
        read_only=True,
        allow_null=True,
        help_text="The version it ran; null for a test run (it ran a snapshot of a draft).",
    )
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "workflow",
            "workflow_name",
            "version",
            "test",
            "status",
            "trigger",
            "priority",
            "actor",
            "idempotency_key",
            "parent_run",
            "parent_node",
            "parent_index",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class RunDetailSerializer(RunSerializer):
    steps = StepSerializer(many=True, read_only=True)
    children = serializers.SerializerMethodField()
    last_event_id = serializers.SerializerMethodField(
        help_text="The newest event this state includes: open /ws/runs/{id}/?after=<it> to "
        "follow the run from here."
    )

    graph = serializers.SerializerMethodField(
        help_text="A test run's graph (the snapshot of the draft it ran); null for a run of a "
        "version, whose graph is GET /api/workflows/{workflow}/versions/{version}/."
    )

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "input", "output", "steps", "children"]
        fields += ["last_event_id", "graph", "replay_of", "replays"]

    replays = serializers.SerializerMethodField(help_text="The runs that replayed this one.")

    def to_representation(self, run: Run) -> dict[str, Any]:
        # compensated_by from the steps serialized here (no query per step).
        self.context["attempts"] = {}
        data = super().to_representation(run)
        attempts = {step["node"]: step["attempt"] for step in data.get("steps", [])}
        compensation = load_plan_graph(run.version_id).compensation
        for step in data.get("steps", []):
            comp = compensation.get(step["node"])
            if comp is not None and step["status"] == StepStatus.SUCCEEDED:
                step["compensated_by"] = comp if attempts.get(comp, 0) > 0 else None
        return data

    def get_replays(self, run: Run) -> list[int]:
        return list(run.replays.order_by("id").values_list("id", flat=True)[:100])

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_graph(self, run: Run) -> dict[str, Any] | None:
        return run.version.graph if run.test and run.version.number is None else None

    def get_children(self, run: Run) -> list[int]:
        return list(run.children.order_by("id").values_list("id", flat=True)[:1000])

    def get_last_event_id(self, run: Run) -> int | None:
        # The views read it before the run and its steps (context), so no change can fall
        # between the state shown and the cursor.
        if "last_event_id" in self.context:
            return self.context["last_event_id"]
        return last_event_id(run.pk)


def run_detail_data(run_id: int) -> dict[str, Any]:
    """A run with its steps as the API answers it, after a read or an action. The newest event
    is read first, then the run and its steps: a change committed in between (a worker that
    finished a step meanwhile) has a larger id, so the live socket opened after it brings the
    change; read the other way round, the state could be older than its cursor and the page
    would wait for events it was told it had."""
    last = last_event_id(run_id)
    run = Run.objects.select_related("workflow", "version", "actor").get(pk=run_id)
    # One query for every waiting human step's task, however many there are.
    open_tasks = {
        t.step_id: t for t in HumanTask.objects.filter(run_id=run_id, status=TaskStatus.OPEN)
    }
    context = {"last_event_id": last, "open_tasks": open_tasks}
    return RunDetailSerializer(run, context=context).data


def last_event_id(run_id: int) -> int | None:
    return (
        RunEvent.objects.filter(run_id=run_id).order_by("-id").values_list("id", flat=True).first()
    )


class EventSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = RunEvent
        fields = [
            "id",
            "run",
            "node",
            "type",
            "old_status",
            "new_status",
            "attempt",
            "actor",
            "created_at",
            "data",
        ]


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_after = serializers.IntegerField(
        allow_null=True, help_text="Pass as ?after= for the next page; null when none is left."
    )


class ReplaySerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version to replay on; default: the newest."
    )
    reason = serializers.CharField(
        max_length=1000, help_text="Why: kept in both runs' event logs (the audit trail)."
    )
    start = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        min_length=1,
        max_length=100,
        help_text="The steps to run again, with what is below them; default: those that "
        "failed or were cancelled.",
    )


class RetrySerializer(serializers.Serializer):
    input = serializers.JSONField(
        required=False,
        help_text="Replaces the step's rendered config for the new attempt; recorded in the log.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")

    def validate_input(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("the edited input must be an object")
        return value


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        default="",
        help_text="Recorded in the run's event log; 'cancelled by an operator' when left out.",
    )


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


# --- Human tasks (the approvals API) ----------------------------------------------------------


class TaskDecisionSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    email = serializers.CharField(
        read_only=True, help_text="An email-only assignee's address (user is then null); else ''."
    )
    via = serializers.ChoiceField(
        choices=Via.choices,
        read_only=True,
        help_text="api (the inbox, a script) or email_link (a signed link of a task email).",
    )

    class Meta:
        model = TaskDecision
        fields = ["user", "email", "via", "decision", "comment", "data", "created_at"]


class TaskDelegationSerializer(serializers.ModelSerializer):
    from_user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    to_user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TaskDelegation
        fields = ["from_user", "to_user", "comment", "reason", "created_at"]


class AssigneesSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField())
    groups = serializers.ListField(child=serializers.CharField())
    emails = serializers.ListField(
        child=serializers.CharField(), help_text="Email-only assignees (assignees.emails)."
    )


class TaskPolicySerializer(serializers.Serializer):
    required_approvals = serializers.IntegerField(required=False)
    reject_on_first_rejection = serializers.BooleanField(required=False)
    forbid_requester = serializers.BooleanField(required=False)
    require_comment_on_reject = serializers.BooleanField(required=False)
    allow_delegation = serializers.BooleanField()
    on_timeout = serializers.CharField()
    reminder_every_s = serializers.IntegerField(allow_null=True)
    escalate_to = serializers.JSONField(allow_null=True, help_text="{groups, due_in_s} or null")
    email_links = serializers.ChoiceField(
        choices=["login", "link"],
        required=False,
        help_text="login: an email's links work once logged in; link: the link is enough.",
    )


class TaskSerializer(SlaWindowFields, serializers.ModelSerializer):
    """A task as its assignees see it. Expects the queryset of ``task_queryset`` (prefetched)
    and ``context["user"]`` for ``can_decide`` and ``can_delegate``."""

    node = serializers.CharField(source="step.node_id", read_only=True)
    workflow = serializers.IntegerField(source="run.workflow_id", read_only=True)
    workflow_name = serializers.CharField(source="run.workflow.name", read_only=True)
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assignees = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    decisions = TaskDecisionSerializer(many=True, read_only=True)
    delegations = TaskDelegationSerializer(many=True, read_only=True)
    can_decide = serializers.SerializerMethodField()
    can_delegate = serializers.SerializerMethodField()

    class Meta:
        model = HumanTask
        fields = [
            "id",
            "kind",
            "status",
            "title",
            "description",
            "run",
            "node",
            "attempt",
            "workflow",
            "workflow_name",
            "requester",
            "assignees",
            "policy",
            "form_schema",
            "escalation_level",
            "escalated_to",
            "due_at",
            "due_from",
            "breached_at",
            "created_at",
            "closed_at",
            "approvals",
            "decisions",
            "delegations",
            "result",
            "can_decide",
            "can_delegate",
        ]

    @extend_schema_field(AssigneesSerializer)
    def get_assignees(self, task: HumanTask) -> dict[str, list[str]]:
        return {
            "users": sorted(u.username for u in task.assigned_users.all()),
            "groups": sorted(g.name for g in task.assigned_groups.all()),
            "emails": sorted(task.assigned_emails),
        }

    @extend_schema_field(TaskPolicySerializer)
    def get_policy(self, task: HumanTask) -> dict[str, Any]:
        policy = dict(task.policy)
        if policy.get("escalate_to"):
            # Group ids are the engine's business; people know groups by name.
            policy["escalate_to"] = {
                k: v for k, v in policy["escalate_to"].items() if k != "group_ids"
            }
        return policy

    def get_approvals(self, task: HumanTask) -> int | None:
        """Approvals so far (null for a form)."""
        if task.kind != "approval":
            return None
        return sum(1 for d in task.decisions.all() if d.decision == Decision.APPROVE)

    def _may_act(self, task: HumanTask) -> bool:
        user = self.context["user"]
        if not task.is_open or not user.is_active or task.is_requester_blocked(user):
            return False
        if any(d.user_id == user.pk for d in task.decisions.all()):
            return False
        group_ids = self.context.get("group_ids")
        if group_ids is None:
            group_ids = self.context["group_ids"] = set(user.groups.values_list("pk", flat=True))
        return any(u.pk == user.pk for u in task.assigned_users.all()) or any(
            g.pk in group_ids for g in task.assigned_groups.all()
        )

    def get_can_decide(self, task: HumanTask) -> bool:
        """Whether the caller may decide the task now."""
        return self._may_act(task)

    def get_can_delegate(self, task: HumanTask) -> bool:
        """Whether the caller may hand the task to someone else now."""
        return self._may_act(task) and bool(task.policy.get("allow_delegation", True))


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=Decision.choices,
        required=False,
        help_text="approve or reject, for an approval; leave out for a form.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    data = serializers.JSONField(
        required=False, help_text="A form's fields, checked against its form_schema."
    )


MAX_BULK_TASKS = 100
# A bulk decision approves or rejects (no form); named in SPECTACULAR_SETTINGS' enum overrides.
APPROVAL_DECISIONS = [Decision.APPROVE.value, Decision.REJECT.value]


class BulkDecideSerializer(serializers.Serializer):
    tasks = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=MAX_BULK_TASKS,
        help_text=f"Ids of approvals, 1 to {MAX_BULK_TASKS}, each once.",
    )
    decision = serializers.ChoiceField(
        choices=APPROVAL_DECISIONS, help_text="approve or reject, for all."
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")

    def validate_tasks(self, value: list[int]) -> list[int]:
        # Refused, not merged: a list naming a task twice is a client's mistake, and merging
        # would answer fewer results than ids were sent.
        seen: set[int] = set()
        for index, task_id in enumerate(value):
            if task_id in seen:
                raise serializers.ValidationError(
                    {str(index): [f"task {task_id} is listed twice"]}, code="duplicate"
                )
            seen.add(task_id)
        return value


class BulkResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The task's id, as sent.")
    ok = serializers.BooleanField()
    status = serializers.IntegerField(help_text="What POST /api/approvals/{id}/decide/ answers.")
    task = TaskSerializer(required=False, help_text="The task after the decision, when ok.")
    errors = ErrorSerializer(many=True, required=False, help_text="Why not, when not ok.")


class BulkDecideResultSerializer(serializers.Serializer):
    decided = serializers.IntegerField(help_text="How many decisions were recorded (or replayed).")
    failed = serializers.IntegerField()
    results = BulkResultSerializer(many=True, help_text="One per task, in the order sent.")


class DelegateSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=150, help_text="The username of the new assignee.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")


class TaskCommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    parent = serializers.IntegerField(
        source="parent_id", read_only=True, allow_null=True, help_text="The thread's first comment."
    )
    mentions = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        read_only=True,
        help_text="Who the @names in the body reached (and were emailed): those who may see "
        "the task.",
    )

    class Meta:
        model = TaskComment
        fields = ["id", "author", "parent", "body", "mentions", "created_at"]


class TaskCommentsSerializer(serializers.Serializer):
    comments = TaskCommentSerializer(many=True, help_text="Oldest first.")
    can_comment = serializers.BooleanField(help_text="Whether the caller may comment now.")


class NewCommentSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=COMMENT_MAX,
        trim_whitespace=False,
        help_text="The text; @username mentions (and emails) that user if they may see the task.",
    )
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A comment to reply to: the reply joins that comment's thread.",
    )


class TaskAttachmentSerializer(serializers.ModelSerializer):
    uploader = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    content_type = serializers.CharField(read_only=True, help_text="Detected from the bytes.")
    url = serializers.SerializerMethodField()

    class Meta:
        model = TaskAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "uploader", "created_at", "url"]

    def get_url(self, attachment: TaskAttachment) -> str:
        """Where to download it (the API, for those who may see the task)."""
        return f"/api/approvals/{attachment.task_id}/attachments/{attachment.pk}/"


class TaskAttachmentsSerializer(serializers.Serializer):
    attachments = TaskAttachmentSerializer(many=True, help_text="Oldest first.")
    can_attach = serializers.BooleanField(help_text="Whether the caller may attach files now.")
    max_bytes = serializers.IntegerField(help_text="The largest file one may attach.")
    allowed_types = serializers.ListField(
        child=serializers.CharField(), help_text="The content types that are accepted."
    )


class NewAttachmentSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False,
        help_text="One file (multipart/form-data). Its type is read from its bytes: PDF, PNG, "
        "JPEG, GIF, WebP, ZIP, Office documents (docx, xlsx, pptx) or UTF-8 text.",
    )


# --- GET /api/stats/ (engine/stats.py computes; these document and shape the answer) -------------


class StatsWindowSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(help_text="now")
    hours = serializers.IntegerField()


class StatsBucketSerializer(serializers.Serializer):
    t = serializers.DateTimeField(help_text="start of the bucket (UTC)")
    started = serializers.IntegerField(help_text="runs created in the bucket")
    succeeded = serializers.IntegerField(help_text="runs that finished in the bucket, succeeded")
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class StatsTotalsSerializer(serializers.Serializer):
    started = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class StatsDurationSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="runs finished in the window with a start time")
    avg = serializers.FloatField(allow_null=True, help_text="seconds")
    p50 = serializers.FloatField(allow_null=True, help_text="the median, seconds, nearest rank")
    p95 = serializers.FloatField(allow_null=True, help_text="seconds, nearest rank")


class StatsRetriesSerializer(serializers.Serializer):
    step_runs = serializers.IntegerField(help_text="attempted steps of the window's runs")
    extra_attempts = serializers.IntegerField(help_text="attempts beyond the first")
    rate = serializers.FloatField(allow_null=True, help_text="extra_attempts / step_runs")


class StatsQueueSerializer(serializers.Serializer):
    depth = serializers.IntegerField(help_text="steps queued now")
    oldest_age_s = serializers.FloatField(allow_null=True)


class StatsTasksSerializer(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="open human tasks")
    overdue = serializers.IntegerField(help_text="open and past due_at")


class StatsBusyStepSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    workflow_name = serializers.CharField()
    node = serializers.CharField()
    attempts = serializers.IntegerField()
    step_runs = serializers.IntegerField()


class StatsSlowStepSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    workflow_name = serializers.CharField()
    node = serializers.CharField()
    count = serializers.IntegerField()
    mean_s = serializers.FloatField()
    p95_s = serializers.FloatField()


class StatsFailingWorkflowSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    workflow_name = serializers.CharField()
    failed = serializers.IntegerField()
    completed = serializers.IntegerField(help_text="runs finished in the window")
    failure_rate = serializers.FloatField()


class StatsTaskFiguresSerializer(serializers.Serializer):
    opened = serializers.IntegerField(help_text="tasks created in the window")
    closed = serializers.IntegerField(help_text="tasks closed in the window, whatever the status")
    open = serializers.IntegerField(help_text="tasks open now")
    approved = serializers.IntegerField(help_text="closed in the window, approved")
    rejected = serializers.IntegerField()
    submitted = serializers.IntegerField(help_text="forms filled in")
    timed_out = serializers.IntegerField()
    cancelled = serializers.IntegerField(help_text="closed because their run or step ended")
    escalated = serializers.IntegerField(help_text="tasks escalated (closed in window or open)")
    with_due = serializers.IntegerField(help_text="tasks with a due time (or escalated)")
    breached = serializers.IntegerField(
        help_text="timed out, escalated, closed at or after due_at, or open past it"
    )
    breach_rate = serializers.FloatField(allow_null=True, help_text="breached / with_due")
    wait_p50_s = serializers.FloatField(
        allow_null=True,
        help_text="created → closed, median (nearest rank) of the tasks closed in the window "
        "by people or their due time (not cancelled)",
    )
    wait_p95_s = serializers.FloatField(allow_null=True)
    open_age_p50_s = serializers.FloatField(allow_null=True, help_text="age of the open tasks")
    open_oldest_s = serializers.FloatField(allow_null=True)


class StatsHumanStepSerializer(StatsTaskFiguresSerializer):
    workflow = serializers.IntegerField()
    workflow_name = serializers.CharField()
    node = serializers.CharField()
    kind = serializers.ChoiceField(choices=["approval", "form"])


class StatsAssigneeSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="username of who decided")
    decisions = serializers.IntegerField(help_text="decisions made in the window")
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    submitted = serializers.IntegerField()
    decision_p50_s = serializers.FloatField(
        allow_null=True, help_text="task created → this person's decision, median"
    )


class StatsGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    tasks = serializers.IntegerField(help_text="assigned tasks closed in the window or open now")
    open = serializers.IntegerField()
    closed = serializers.IntegerField()
    breached = serializers.IntegerField()
    wait_p50_s = serializers.FloatField(allow_null=True)


class StatsHumanSerializer(serializers.Serializer):
    """What people's work cost: tasks closed in the window or open now."""

    totals = StatsTaskFiguresSerializer()
    steps = StatsHumanStepSerializer(many=True, help_text="per (workflow, step), at most 50")
    assignees = StatsAssigneeSerializer(many=True, help_text="at most 50")
    groups = StatsGroupSerializer(many=True, help_text="at most 50")


class StatsSerializer(serializers.Serializer):
    """Dashboard figures over a window of time, for the workflows the caller may see."""

    window = StatsWindowSerializer()
    interval = serializers.ChoiceField(choices=["1h", "1d"])
    workflow = serializers.IntegerField(allow_null=True)
    series = StatsBucketSerializer(many=True)
    totals = StatsTotalsSerializer()
    failure_rate = serializers.FloatField(
        allow_null=True, help_text="failed / (succeeded + failed + cancelled) finished in window"
    )
    duration_s = StatsDurationSerializer()
    retries = StatsRetriesSerializer()
    queue = StatsQueueSerializer()
    tasks = StatsTasksSerializer()
    busiest_steps = StatsBusyStepSerializer(many=True)
    slowest_steps = StatsSlowStepSerializer(many=True)
    failing_workflows = StatsFailingWorkflowSerializer(many=True)
    human = StatsHumanSerializer()


# --- Comparing two runs, or two attempts of a step (engine/compare.py shapes the answers) ---------


class ComparedRunSerializer(RunSerializer):
    duration_ms = serializers.SerializerMethodField(
        help_text="From start to end; null until the run has both."
    )

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "input", "output", "duration_ms"]

    def get_duration_ms(self, run: Run) -> int | None:
        return duration_ms(run.started_at, run.finished_at)


class CompareStepSideSerializer(serializers.Serializer):
    status = serializers.CharField()
    attempts = serializers.IntegerField(help_text="The step's attempts so far (0: never queued).")
    duration_ms = serializers.IntegerField(
        allow_null=True, help_text="From start to end of the last attempt; null until both."
    )
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    input = serializers.JSONField(allow_null=True, help_text="The last attempt's rendered config.")
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)


class CompareChangedSerializer(serializers.Serializer):
    status = serializers.BooleanField()
    attempts = serializers.BooleanField()
    input = serializers.BooleanField()
    output = serializers.BooleanField()
    error = serializers.BooleanField()


class CompareStepSerializer(serializers.Serializer):
    node = serializers.CharField()
    type = serializers.CharField()
    a = CompareStepSideSerializer(allow_null=True, help_text="null: run a has no such step.")
    b = CompareStepSideSerializer(allow_null=True, help_text="null: run b has no such step.")
    changed = CompareChangedSerializer(
        help_text="What differs; a step only one run has differs in everything."
    )


class ChangedNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    fields = serializers.ListField(
        child=serializers.CharField(), help_text="e.g. label, join, retry, config.url"
    )


class NodeDiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = ChangedNodeSerializer(many=True)


class DiffEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    source_handle = serializers.CharField()
    target = serializers.CharField()


class EdgeDiffSerializer(serializers.Serializer):
    added = DiffEdgeSerializer(many=True)
    removed = DiffEdgeSerializer(many=True)


class VersionDiffSerializer(serializers.Serializer):
    a = serializers.IntegerField(help_text="Run a's version number.")
    b = serializers.IntegerField(help_text="Run b's version number.")
    same_workflow = serializers.BooleanField()
    nodes = NodeDiffSerializer(help_text="By node id; a node's position is not a change.")
    edges = EdgeDiffSerializer(help_text="By what they connect (source, handle, target).")
    other = serializers.ListField(
        child=serializers.CharField(), help_text="input_schema and/or output, when they differ."
    )


class RunCompareSerializer(serializers.Serializer):
    a = ComparedRunSerializer()
    b = ComparedRunSerializer()
    steps = CompareStepSerializer(
        many=True, help_text="One per node id of either run: a's graph order, then b's new ones."
    )
    versions = VersionDiffSerializer(
        allow_null=True, help_text="The graph diff from a's version to b's; null when the same."
    )


class CompareAttemptSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    status = serializers.CharField(help_text="The status the attempt ended in (or is in now).")
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    input = serializers.JSONField(
        allow_null=True,
        help_text="Kept for the step's last attempt, and for an attempt an operator retried "
        "with an edited input; else null (see input_kept).",
    )
    input_kept = serializers.BooleanField()
    output = serializers.JSONField(
        allow_null=True, help_text="Kept for the step's last attempt only (see output_kept)."
    )
    output_kept = serializers.BooleanField()
    log = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The lines the attempt logged; null when not kept (the last 5 attempts are).",
    )
    events = serializers.ListField(
        child=serializers.CharField(), help_text="The attempt's event types, oldest first."
    )


class AttemptChangedSerializer(serializers.Serializer):
    status = serializers.BooleanField()
    error = serializers.BooleanField()
    input = serializers.BooleanField(allow_null=True, help_text="null: not kept for both.")
    output = serializers.BooleanField(allow_null=True, help_text="null: not kept for both.")
    log = serializers.BooleanField(allow_null=True, help_text="null: not kept for both.")


class AttemptCompareSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    node = serializers.CharField()
    type = serializers.CharField()
    attempts = serializers.IntegerField(help_text="The step's attempts so far.")
    a = CompareAttemptSerializer()
    b = CompareAttemptSerializer()
    changed = AttemptChangedSerializer()
