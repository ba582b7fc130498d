from typing import Any
from urllib.parse import urlsplit

from django.core.validators import URLValidator
from rest_framework import serializers

from alerts.models import Alert, AlertKind, AlertRule
from connectors.netguard import refused_literal
from designer.models import Workflow
from engine.serializers import RunSerializer
from flowdeck.fields import NumberField, StrictBooleanField


class AlertRuleSerializer(serializers.ModelSerializer):
    """A rule. ``webhook_secret`` is write-only: the API says only whether one is set."""

    workflow = serializers.PrimaryKeyRelatedField(
        queryset=Workflow.objects.all(),
        allow_null=True,
        required=False,
        help_text="null: a global rule (staff only)",
    )
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    rate_pct = NumberField(min_value=0, max_value=100, allow_null=True, required=False)
    enabled = StrictBooleanField(required=False)
    window_s = serializers.IntegerField(min_value=1, max_value=30 * 86400, required=False)
    min_runs = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    queued_s = serializers.IntegerField(min_value=1, max_value=30 * 86400, required=False)
    cooldown_s = serializers.IntegerField(min_value=0, max_value=30 * 86400, required=False)
    emails = serializers.ListField(
        child=serializers.EmailField(), max_length=50, required=False, default=list
    )
    webhook_url = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    webhook_secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )
    has_webhook_secret = serializers.SerializerMethodField()
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "kind",
            "workflow",
            "rate_pct",
            "window_s",
            "min_runs",
            "queued_s",
            "emails",
            "webhook_url",
            "webhook_secret",
            "has_webhook_secret",
            "cooldown_s",
            "enabled",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    def get_has_webhook_secret(self, rule: AlertRule) -> bool:
        return bool(rule.webhook_secret)

    def validate_webhook_url(self, value: str) -> str:
        if value:
            URLValidator(schemes=["http", "https"], message="a webhook URL is http(s)")(value)
            # An address given literally is judged now; a host name when each alert is sent
            # (what it resolves to may change).
            parts = urlsplit(value)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            refused = refused_literal(parts.hostname or "", port)
            if refused:
                raise serializers.ValidationError(refused, code="address_refused")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        merged = {
            field: getattr(self.instance, field, None) for field in ("kind", "rate_pct", "emails")
        }
        merged["webhook_url"] = getattr(self.instance, "webhook_url", "")
        merged.update(data)
        if merged["kind"] == AlertKind.FAILURE_RATE and merged.get("rate_pct") is None:
            raise serializers.ValidationError(
                {"rate_pct": ["a failure_rate rule needs rate_pct (0-100)"]}
            )
        workflow = data.get("workflow", getattr(self.instance, "workflow", None))
        if merged["kind"] == AlertKind.BREAKER_OPEN and workflow is not None:
            raise serializers.ValidationError(
                {"workflow": ["a breaker_open rule is global (workflow null): breakers are shared"]}
            )
        if not merged.get("emails") and not merged.get("webhook_url"):
            raise serializers.ValidationError(
                {"emails": ["give emails and/or a webhook_url: a rule needs a channel"]}
            )
        return data


class AlertSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="open or resolved")
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    kind = serializers.CharField(source="rule.kind", read_only=True)
    resolved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    deliveries = serializers.JSONField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "kind",
            "key",
            "workflow",
            "summary",
            "status",
            "opened_at",
            "last_seen_at",
            "last_sent_at",
            "sends",
            "resolved_at",
            "resolved_by",
            "cleared_at",
            "deliveries",
        ]


class DeadLetterRunSerializer(RunSerializer):
    failed_steps = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "failed_steps"]

    def get_failed_steps(self, run: Any) -> list[str]:
        return sorted(s.node_id for s in run.steps.all() if s.status == "failed")


class BulkRetrySerializer(serializers.Serializer):
    runs = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=100
    )
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="retried from the dead letters"
    )


class BulkRetryResultSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["retried", "not_found", "forbidden", "conflict"])
    steps = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()


class BulkRetryResponseSerializer(serializers.Serializer):
    results = BulkRetryResultSerializer(many=True)
