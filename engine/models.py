"""Runs, their steps, and the event log (CONTRACT §4).

Rows change only through ``engine/transitions.py`` (STYLE 1); events are created only by
``engine/events.py`` (STYLE 4).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from engine.states import RUN_TERMINAL, STEP_TERMINAL, RunStatus, StepStatus


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
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    # {"message", "code", "node"} when the run failed or was cancelled.
    error = models.JSONField(null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.API)
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


class RunEvent(models.Model):
    """One row of a run's append-only history; the id is the cursor (CONTRACT §6)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    node_id = models.CharField(max_length=64, blank=True, default="")
    type = models.CharField(max_length=40)
    old_status = models.CharField(max_length=10, blank=True, default="")
    new_status = models.CharField(max_length=10, blank=True, default="")
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
