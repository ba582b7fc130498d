"""Alert rules and the incidents they open (issue 8, part 5).

A rule watches runs, steps or human tasks of one workflow (or of every workflow: a global rule)
and delivers by email and/or a signed webhook. An ``Alert`` is one incident: one per rule and
``key`` (the run, the workflow, the step, the task) while its condition lasts, so one incident
sends one alert, re-sent at most once per cool-down. Evaluation and delivery: alerts/evaluate.py.

An app of its own rather than part of engine/: alerts read runs, steps and tasks but never
change them (the dead-letter retry calls the engine's own transition), and the engine knows of
them through one line, the sweeper's hook.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class AlertKind(models.TextChoices):
    RUN_FAILED = "run_failed"  # a (top-level) run ended failed
    FAILURE_RATE = "failure_rate"  # failed / finished runs of a workflow over rate_pct in window_s
    STEP_QUEUED_TOO_LONG = "step_queued_too_long"  # a step waits for a worker over queued_s
    TASK_OVERDUE = "task_overdue"  # an open approval or form past its due time
    BREAKER_OPEN = "breaker_open"  # a circuit breaker is open or half-open (a global rule)
    # A run stays compensating: a compensation failed after its last attempt (issue 20).
    COMPENSATION_FAILED = "compensation_failed"


class Delivery(models.TextChoices):
    NONE = "none"  # the channel is not configured on the rule
    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"  # a webhook attempt failed; webhook_next_at holds the next one
    FAILED = "failed"  # out of attempts (webhook) or the mail backend refused (email)


class AlertRule(models.Model):
    """What to watch, how to tell people, and how often to remind them."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    # NULL: a global rule (staff only), watching every workflow.
    workflow = models.ForeignKey(
        "designer.Workflow",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    rate_pct = models.FloatField(null=True, blank=True)  # failure_rate: over this share, 0-100
    window_s = models.PositiveIntegerField(default=3600)  # failure_rate, run_failed: look back
    min_runs = models.PositiveIntegerField(default=5)  # failure_rate: fewer finished runs is noise
    queued_s = models.PositiveIntegerField(default=300)  # step_queued_too_long
    emails = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(max_length=1000, blank=True, default="")
    # Signs webhook bodies (HMAC-SHA256); never returned by the API nor logged.
    webhook_secret = models.CharField(max_length=200, blank=True, default="")
    cooldown_s = models.PositiveIntegerField(default=3600)
    enabled = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"alert rule {self.name} ({self.kind})"


class Alert(models.Model):
    """One incident of a rule. Open while unresolved; ``cleared_at`` is set when the condition
    no longer holds. An operator's resolve (acknowledge) stops the reminders, but the incident
    still owns its key until the condition clears, so acknowledging does not re-alert."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(max_length=100)  # "run:12", "workflow:3", "step:40", "task:7"
    # The workflow concerned (for who may see the incident); a global rule's too.
    workflow = models.ForeignKey(
        "designer.Workflow", null=True, on_delete=models.CASCADE, related_name="+"
    )
    summary = models.CharField(max_length=1000)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveIntegerField(default=0)  # the first alert and each cool-down re-send
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.NONE)
    email_error = models.CharField(max_length=500, blank=True, default="")
    # While the email is pending: when a sweeper may enqueue it again (its task was lost).
    email_next_at = models.DateTimeField(null=True, blank=True)
    webhook_status = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.NONE
    )
    webhook_attempts = models.PositiveIntegerField(default=0)  # of the latest send
    # Retrying: when the next try is due. Pending: the lease of the try handed to the queue.
    webhook_next_at = models.DateTimeField(null=True, blank=True)
    webhook_error = models.CharField(max_length=500, blank=True, default="")
    webhook_response = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One live incident per rule and key: two sweepers that see the same failure
            # race on this insert, and the loser sends nothing.
            models.UniqueConstraint(
                fields=["rule", "key"],
                condition=Q(cleared_at__isnull=True),
                name="alert_one_live_incident",
            ),
        ]
        indexes = [
            models.Index(fields=["resolved_at", "-id"], name="alert_resolved_id"),
            # The sweeper's question: which deliveries are due (few rows: only live ones).
            models.Index(
                fields=["webhook_next_at"],
                name="alert_webhook_due",
                condition=Q(webhook_next_at__isnull=False),
            ),
            models.Index(
                fields=["email_next_at"],
                name="alert_email_due",
                condition=Q(email_next_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} {self.key} of rule {self.rule_id}"

    @property
    def status(self) -> str:
        return "open" if self.resolved_at is None else "resolved"

    @property
    def deliveries(self) -> dict[str, Any]:
        return {
            "email": {"status": self.email_status, "error": self.email_error},
            "webhook": {
                "status": self.webhook_status,
                "attempts": self.webhook_attempts,
                "next_at": self.webhook_next_at,
                "response": self.webhook_response,
                "error": self.webhook_error,
            },
        }
