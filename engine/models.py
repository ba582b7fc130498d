"""Runs, their steps, the event log (CONTRACT §4), and the human tasks of waiting steps.

Rows change only through ``engine/transitions.py`` (STYLE 1); events are created only by
``engine/events.py`` (STYLE 4).
"""

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import Q

from engine.states import (
    RUN_TERMINAL,
    STEP_TERMINAL,
    Priority,
    RunStatus,
    StepStatus,
    TaskStatus,
)


class Trigger(models.TextChoices):
    MANUAL = "manual"  # the UI
    API = "api"
    CLI = "cli"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"
    PARENT = "parent"  # a flow.subworkflow or flow.map step of another run


class Run(models.Model):
    """One execution of a pinned workflow version."""

    workflow = models.ForeignKey("designer.Workflow", on_delete=models.PROTECT, related_name="runs")
    version = models.ForeignKey(
        "designer.WorkflowVersion", on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    # {"message", "code", "node"} when the run failed or was cancelled.
    error = models.JSONField(null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.API)
    # The workflow's (its graph's "priority"), or the one its start asked for; child runs
    # take their parent's. Every task enqueued for its steps carries it (engine/priority.py).
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # NULL, not "": the partial unique constraint below skips runs without a key.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # A child run (flow.subworkflow, flow.map) knows its parent step; the parent step finds its
    # children by these three fields.
    parent_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    parent_node = models.CharField(max_length=64, blank=True, default="")
    parent_index = models.PositiveIntegerField(null=True, blank=True)
    parent_attempt = models.PositiveIntegerField(null=True, blank=True)
    # A test run (issue 18) of a draft's snapshot, started from the designer: left out of the
    # runs list, stats, /metrics and alerts unless asked for, deleted after
    # FLOWDECK_TEST_RUN_DAYS. With capture_email, notify.email keeps its message, sends nothing.
    test = models.BooleanField(default=False)
    capture_email = models.BooleanField(default=False)
    # A replay (issue 18): a new run, on a fixed version, of a run that failed, given the
    # results of the steps that had finished; the failed run lists its replays.
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The runs list: newest first, by workflow and/or status (keyset on id).
            models.Index(fields=["workflow", "-id"], name="run_workflow_id"),
            models.Index(fields=["status", "-id"], name="run_status_id"),
            models.Index(fields=["workflow", "status", "-id"], name="run_workflow_status_id"),
            models.Index(fields=["created_at"], name="run_created_at"),
            # /api/stats/ and /metrics: runs finished in a window of time.
            models.Index(fields=["finished_at"], name="run_finished_at"),
            models.Index(fields=["parent_run", "parent_node"], name="run_parent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="run_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.workflow_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in RUN_TERMINAL


class StepRun(models.Model):
    """One node of one run: its status, current attempt, input, output and lease."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    node_id = models.CharField(max_length=64)
    type = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    # 0 until first queued; each new attempt (retry, operator retry) increments it. Every
    # transition of an attempt compares it, so a late result of an old attempt is refused.
    attempt = models.PositiveIntegerField(default=0)
    handle = models.CharField(max_length=64, blank=True, default="")  # the chosen output handle
    input = models.JSONField(null=True, blank=True)  # the rendered config of the last attempt
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)  # {"message", "code", "retryable"}
    # Private state of a waiting step (a map's progress, an operator's edited input).
    state = models.JSONField(default=dict, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)  # timeout_s of this attempt
    wake_at = models.DateTimeField(null=True, blank=True)  # durable timer: retry or delay
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id"], name="steprun_unique_node"),
        ]
        indexes = [
            # The sweeper's three questions, each on a small partial index.
            models.Index(
                fields=["queued_at"],
                name="steprun_queued",
                condition=Q(status=StepStatus.QUEUED),
            ),
            models.Index(
                fields=["lease_expires_at"],
                name="steprun_running",
                condition=Q(status=StepStatus.RUNNING),
            ),
            models.Index(
                fields=["wake_at"],
                name="steprun_timers",
                condition=Q(wake_at__isnull=False),
            ),
            # /metrics: steps that ended since the last scrape (a range of a few seconds).
            models.Index(fields=["finished_at"], name="steprun_finished_at"),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} of run {self.run_id} ({self.status}, attempt {self.attempt})"

    @property
    def is_terminal(self) -> bool:
        return self.status in STEP_TERMINAL

    @property
    def idempotency_key(self) -> str:
        """run:node:attempt, passed on to the services a step calls (ARCHITECTURE, recovery)."""
        return f"{self.run_id}:{self.node_id}:{self.attempt}"


class StepLog(models.Model):
    """The lines one attempt of a step wrote through ``ctx.log`` (engine/steplogs.py), stored
    with the attempt's outcome in its transaction; a step keeps its last few attempts'."""

    step = models.ForeignKey(StepRun, on_delete=models.CASCADE, related_name="logs")
    attempt = models.PositiveIntegerField()
    lines = models.JSONField(default=list)  # [{"t", "level", "message"}]
    dropped = models.PositiveIntegerField(default=0)  # lines over the caps, not kept
    dropped_at = models.PositiveIntegerField(null=True, blank=True)  # where they were in lines

    class Meta:
        ordering = ["step", "attempt"]
        constraints = [
            # An attempt's outcome is recorded once (compare-and-set), so its log too.
            models.UniqueConstraint(fields=["step", "attempt"], name="steplog_unique_attempt"),
        ]

    def __str__(self) -> str:
        return f"log of {self.step_id} attempt {self.attempt}"


class RunEvent(models.Model):
    """One row of a run's append-only history; the id is the cursor (CONTRACT §6)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    node_id = models.CharField(max_length=64, blank=True, default="")
    type = models.CharField(max_length=40)
    old_status = models.CharField(max_length=16, blank=True, default="")
    new_status = models.CharField(max_length=16, blank=True, default="")
    attempt = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "id"], name="runevent_run_id")]

    def __str__(self) -> str:
        return f"{self.type} {self.node_id} (run {self.run_id})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("run events are append-only")
        super().save(*args, **kwargs)


class TaskKind(models.TextChoices):
    APPROVAL = "approval"  # human.approval
    FORM = "form"  # human.form


class HumanTask(models.Model):
    """What a waiting ``human.approval`` or ``human.form`` step asks of people: one per attempt.

    Who may act: the assigned users (a delegation swaps the delegator for the delegate) and the
    active members of the assigned groups (an escalation adds its groups). Under four eyes
    (``policy.forbid_requester``) the requester may not decide nor delegate.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey(StepRun, on_delete=models.CASCADE, related_name="tasks")
    attempt = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=TaskKind.choices)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    title = models.CharField(max_length=1000)
    description = models.TextField(blank=True, default="")
    assigned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="human_tasks"
    )
    assigned_groups = models.ManyToManyField("auth.Group", blank=True, related_name="human_tasks")
    # People without an account, by email address (assignees.emails, lower case): they act
    # through the signed links of their emails only (engine/tasklinks.py).
    assigned_emails = models.JSONField(default=list, blank=True)
    # The run's actor: under four eyes, the one person who may not decide.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    form_schema = models.JSONField(null=True, blank=True)  # forms only
    # The step's rendered rules: required_approvals, reject_on_first_rejection,
    # forbid_requester, require_comment_on_reject, allow_delegation, on_timeout, escalate_to,
    # reminder_every_s.
    policy = models.JSONField(default=dict, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    # The start of the current SLA window (when the task was asked, or escalated): with due_at,
    # what a countdown measures its "last 20 %" on. Null without a due time.
    due_from = models.DateTimeField(null=True, blank=True)
    # When the task last passed its due time (the timeout rule then applied); null if never.
    breached_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)  # the next reminder
    reminders_sent = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)  # the step output the task produced
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One task per attempt: a duplicate delivery of the attempt cannot ask twice.
            models.UniqueConstraint(fields=["step", "attempt"], name="humantask_unique_attempt"),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="humantask_status_id"),
            models.Index(fields=["run", "-id"], name="humantask_run_id"),
            # Time ranges of the dashboard's human figures and the metrics' incremental scrapes
            # (engine/stats.py, engine/metrics.py): without them each read scans every task.
            models.Index(fields=["closed_at"], name="humantask_closed_at"),
            models.Index(fields=["created_at"], name="humantask_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} task {self.pk} of run {self.run_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def next_wake(self) -> datetime | None:
        """The step's durable timer: the earlier of the due time and the next reminder."""
        times = [t for t in (self.due_at, self.remind_at) if t is not None]
        return min(times) if times else None

    @property
    def escalated_to(self) -> list[str]:
        """The names of the groups the task was escalated to; empty before an escalation."""
        if not self.escalation_level:
            return []
        return list((self.policy.get("escalate_to") or {}).get("groups") or [])

    @property
    def sla_window_start(self) -> datetime | None:
        """The start of the current SLA window; tasks made before ``due_from`` existed count
        from their creation."""
        if self.due_at is None:
            return None
        return self.due_from or self.created_at

    def is_requester_blocked(self, user: AbstractBaseUser) -> bool:
        """Four eyes: the person who started the run may not decide it."""
        return bool(self.policy.get("forbid_requester")) and self.requester_id == user.pk

    def may_act(self, user: AbstractBaseUser) -> bool:
        """Is ``user`` an assignee now: assigned (or delegated to), or in an assigned group?"""
        if not user.is_authenticated or not user.is_active:
            return False
        return (
            self.assigned_users.filter(pk=user.pk).exists()
            or self.assigned_groups.filter(pk__in=user.groups.values("pk")).exists()
        )

    def may_act_by_email(self, email: str) -> bool:
        """Is ``email`` one of the task's email-only assignees?"""
        return bool(email) and email.lower() in self.assigned_emails

    def undecided_count(self, decided_user_ids: set[int], decided_emails: set[str]) -> int:
        """How many assignees may still act: users (without a requester under four eyes) and
        email-only addresses that have not decided yet."""
        eligible = self.assignee_ids()
        if self.policy.get("forbid_requester"):
            eligible.discard(self.requester_id)
        emails = set(self.assigned_emails) - decided_emails
        return len(eligible - decided_user_ids) + len(emails)

    def assignee_ids(self) -> set[int]:
        """The active users who may act: assigned ones and the members of assigned groups."""
        users = get_user_model().objects.filter(is_active=True)
        direct = users.filter(pk__in=self.assigned_users.values("pk"))
        grouped = users.filter(groups__in=self.assigned_groups.values("pk"))
        return set(direct.values_list("pk", flat=True)) | set(grouped.values_list("pk", flat=True))

    def assignee_names(self) -> dict[str, list[str]]:
        names = {
            "users": sorted(self.assigned_users.values_list("username", flat=True)),
            "groups": sorted(self.assigned_groups.values_list("name", flat=True)),
        }
        if self.assigned_emails:
            names["emails"] = sorted(self.assigned_emails)
        return names


def tasks_involving(user: AbstractBaseUser) -> Q:
    """The tasks that are ``user``'s business: assigned to them (by name, group or delegation),
    or that they decided or delegated. Subqueries, not joins, so no row comes twice."""
    through_users = HumanTask.assigned_users.through.objects.filter(user_id=user.pk)
    through_groups = HumanTask.assigned_groups.through.objects.filter(
        group_id__in=user.groups.values("pk")
    )
    return (
        Q(pk__in=through_users.values("humantask_id"))
        | Q(pk__in=through_groups.values("humantask_id"))
        | Q(pk__in=TaskDecision.objects.filter(user_id=user.pk).values("task_id"))
        | Q(pk__in=TaskDelegation.objects.filter(from_user_id=user.pk).values("task_id"))
    )


def tasks_awaiting(user: AbstractBaseUser) -> Q:
    """Open tasks ``user`` may act on and has not decided yet (four eyes excluded)."""
    through_users = HumanTask.assigned_users.through.objects.filter(user_id=user.pk)
    through_groups = HumanTask.assigned_groups.through.objects.filter(
        group_id__in=user.groups.values("pk")
    )
    # A subquery, not ~Q(policy__forbid_requester=True): a form's policy has no such key, the
    # JSON lookup is then NULL, and NOT (... AND NULL) is NULL, which hid every form that its
    # own requester was asked to fill.
    blocked = HumanTask.objects.filter(requester_id=user.pk, policy__forbid_requester=True)
    return (
        Q(status=TaskStatus.OPEN)
        & (
            Q(pk__in=through_users.values("humantask_id"))
            | Q(pk__in=through_groups.values("humantask_id"))
        )
        & ~Q(pk__in=TaskDecision.objects.filter(user_id=user.pk).values("task_id"))
        & ~Q(pk__in=blocked.values("pk"))
    )


class Decision(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"
    SUBMIT = "submit"  # a form


class Via(models.TextChoices):
    API = "api"  # the inbox, a script
    EMAIL_LINK = "email_link"  # a signed link from an email (engine/tasklinks.py)


class TaskDecision(models.Model):
    """One person's decision on a task; at most one each (the unique constraints back the
    check made under the run lock). An email-only assignee's has no user but its ``email``."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="decisions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(max_length=254, blank=True, default="")
    via = models.CharField(max_length=12, choices=Via.choices, default=Via.API)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True, default="")
    data = models.JSONField(null=True, blank=True)  # a form's submission
    # The client's Idempotency-Key, if it sent one: a retry of this very request (same key,
    # same body) answers as the first did instead of 409 (engine/transitions.py do_decide).
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="taskdecision_once_per_user"),
            models.UniqueConstraint(
                fields=["task", "email"],
                condition=~Q(email=""),
                name="taskdecision_once_per_email",
            ),
        ]
        # The window's decisions for the dashboard's per-person figures (engine/stats.py).
        indexes = [models.Index(fields=["created_at"], name="taskdecision_created_at")]

    def __str__(self) -> str:
        return f"{self.decision} on task {self.task_id}"

    @property
    def by(self) -> str | None:
        """Who decided, as people read it: the username, or the address of an email-only one."""
        if self.email:
            return self.email
        return self.user.get_username() if self.user else None


class TaskDelegation(models.Model):
    """An assignee handed the task to someone else (the history; the assignment is on the task)."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="delegations")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True, default="")
    # Why: "" when a person handed it on, "absence" when the engine did because the assignee
    # was out of office when the task was assigned (people.Absence).
    reason = models.CharField(
        max_length=20, blank=True, default="", choices=[("", "by hand"), ("absence", "absence")]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"task {self.task_id} delegated"


COMMENT_MAX = 10_000  # characters of one comment's body


class TaskComment(models.Model):
    """A comment on a task, by someone who may see it (engine/discussion.py says who may write).

    Threads are one level deep, as review threads on GitHub: a comment either starts a thread
    (``parent`` is null) or replies to one; a reply to a reply joins its thread's root, so a
    thread reads as one list. ``mentions`` are the users an ``@username`` in the body named who
    may see the task (they were emailed); any other ``@word`` stays plain text.
    """

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField(max_length=COMMENT_MAX)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["task", "id"], name="taskcomment_task_id")]

    def __str__(self) -> str:
        return f"comment {self.pk} on task {self.task_id}"


def attachment_path(attachment: "TaskAttachment", filename: str) -> str:
    """Where the bytes go in the storage: a random name, never the client's (which is kept,
    cleaned, in ``name``); no extension, so nothing serves it by its suffix."""
    return f"attachments/{attachment.task_id}/{uuid.uuid4().hex}"


class TaskAttachment(models.Model):
    """A file attached to a task, in Django's default storage (the data dir, or S3-like storage
    through ``STORAGES``). Served only by the approvals API to those who may see the task,
    with the type read from its bytes (engine/attachments.py), never the client's claim."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(max_length=200)  # the client's file name, cleaned
    content_type = models.CharField(max_length=100)  # as detected
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["task", "id"], name="taskattachment_task_id")]

    def __str__(self) -> str:
        return f"{self.name} on task {self.task_id}"


class LinkAction(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"
    FORM = "form"  # an email-only assignee's form page


class TaskLink(models.Model):
    """One signed link of one task email: for one recipient (a user, or an email-only address)
    and one action. The URL carries a signed payload naming all of it and a random nonce; the
    row holds only the nonce's hash, so the table alone opens nothing. A recipient's links of a
    task are used up together, in the transaction of their decision (engine/tasklinks.py)."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="links")
    attempt = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=10, choices=LinkAction.choices)
    nonce_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of the nonce
    created_at = models.DateTimeField(auto_now_add=True)
    # The latest a link works when its task has no due time (FLOWDECK_TASK_LINK_MAX_AGE_S);
    # with one, the task's due time (which an escalation moves) decides instead.
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["task", "user", "email"], name="tasklink_recipient")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(email=""))
                | (Q(user__isnull=True) & ~Q(email="")),
                name="tasklink_one_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} link of task {self.task_id}"

    @property
    def recipient(self) -> str:
        return self.email or (self.user.get_username() if self.user else "")


class BreakerState(models.TextChoices):
    CLOSED = "closed"  # calls go through; counted failures are remembered for window_s
    OPEN = "open"  # calls fail at once (circuit_open) until retry_at
    HALF_OPEN = "half_open"  # one probe is out (until retry_at); others fail at once


class BreakerScope(models.TextChoices):
    CREDENTIAL = "credential"  # http.request with a credential: one breaker per credential
    HOST = "host"  # http.request without one: per host (and port)
    FUNCTION = "function"  # code.function: per registered function


class CircuitBreaker(models.Model):
    """A circuit breaker over one service (engine/breakers.py). Shared by every worker through
    this row: each change is a compare-and-set on ``version``, so two workers counting a
    failure at once both count (one retries on the new row), and exactly one takes the probe."""

    key = models.CharField(max_length=300, unique=True)  # "<scope>:<target>"
    scope = models.CharField(max_length=12, choices=BreakerScope.choices)
    target = models.CharField(max_length=280)  # the credential's name, host[:port], function
    state = models.CharField(max_length=10, choices=BreakerState.choices, default="closed")
    version = models.PositiveBigIntegerField(default=0)
    # Epoch seconds of the counted failures inside the window (at most ``failures`` of them).
    recent = models.JSONField(default=list, blank=True)
    # open: when a probe may go; half_open: when the probe counts as lost (another may go).
    retry_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.JSONField(default=dict, blank=True)  # code and message, no secrets
    # The thresholds in force when it last changed: {failures, window_s, open_s}.
    thresholds = models.JSONField(default=dict, blank=True)
    failures_total = models.PositiveBigIntegerField(default=0)  # counters for /metrics
    opens_total = models.PositiveBigIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        indexes = [models.Index(fields=["state"], name="breaker_state")]

    def __str__(self) -> str:
        return f"breaker {self.key} ({self.state})"

    @property
    def failures(self) -> int:
        return len(self.recent)


# Schedules live in their own module; imported here so that Django registers the model.
from engine.schedule_models import WorkflowSchedule  # noqa: E402, F401
