"""The schedule of a workflow whose newest version starts with a ``trigger.schedule`` node.

Imported by ``engine/models.py`` so that Django registers it with the engine app; it changes
only through the ``do_*`` functions of ``engine/schedules.py`` (STYLE 1).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class CatchUp(models.TextChoices):
    """What happens to slots missed while nothing fired (workers down)."""

    SKIP = "skip"  # none of them: the next slot in the future
    LATEST = "latest"  # the most recent one, once
    ALL = "all"  # every one, oldest first, at most catch_up_limit (the oldest dropped)


class Overlap(models.TextChoices):
    """What a slot does while the previous scheduled run of the workflow is still going."""

    ALLOW = "allow"  # start anyway
    SKIP = "skip"  # start nothing, record the skipped slot
    QUEUE = "queue"  # start when the previous one has ended


class ScheduleState(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"  # by someone, through the API (survives new versions)
    DISABLED = "disabled"  # the node's config says enabled: false
    ARCHIVED = "archived"  # the workflow is archived


class WorkflowSchedule(models.Model):
    """When a workflow starts by itself: its newest version's ``trigger.schedule`` node, planned.

    ``next_fire_at`` is the first slot not yet handled (UTC), or NULL while the schedule fires
    nothing (paused, disabled, archived, or a cron that never matches). Firing compare-and-sets
    it, and each slot's run carries the idempotency key ``schedule:<slot>``, so a slot starts at
    most one run however many sweepers race for it.
    """

    workflow = models.OneToOneField(
        "designer.Workflow", on_delete=models.CASCADE, related_name="schedule"
    )
    # The version planned from (the newest; a newer one without the trigger deletes the row).
    version = models.ForeignKey(
        "designer.WorkflowVersion", on_delete=models.PROTECT, related_name="+"
    )
    node_id = models.CharField(max_length=64)
    # A copy of the node's config, with the schema's defaults filled in.
    cron = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    input = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    catch_up = models.CharField(max_length=10, choices=CatchUp.choices, default=CatchUp.SKIP)
    catch_up_limit = models.PositiveIntegerField(default=10)
    overlap = models.CharField(max_length=10, choices=Overlap.choices, default=Overlap.ALLOW)
    paused = models.BooleanField(default=False)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    # Slots waiting for the previous run to end (overlap: queue), oldest first, as UTC ISO text.
    pending_slots = models.JSONField(default=list, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)  # the slot of the last run
    last_run = models.ForeignKey(
        "engine.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"slot", "since", "reason", "message", "at"}: the last slot that started nothing.
    last_skipped = models.JSONField(null=True, blank=True)
    # {"slot", "code", "message", "errors", "at"}: the last slot that could not start its run
    # (a bad input, say). Cleared by a new version, not by a later success: it stays visible.
    last_error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The sweeper's question every second: which schedules are due?
            models.Index(
                fields=["next_fire_at"],
                name="schedule_due",
                condition=Q(next_fire_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"schedule of {self.workflow_id}: {self.cron} ({self.timezone})"

    @property
    def state(self) -> ScheduleState:
        if self.workflow.archived:
            return ScheduleState.ARCHIVED
        if not self.enabled:
            return ScheduleState.DISABLED
        if self.paused:
            return ScheduleState.PAUSED
        return ScheduleState.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.state == ScheduleState.ACTIVE
