"""The runs API's shapes (CONTRACT §5)."""

from typing import Any

from rest_framework import serializers

from engine.models import Run, RunEvent, StepRun


class StartRunSerializer(serializers.Serializer):
    input = serializers.JSONField(
        required=False, default=dict, help_text="Checked against the workflow's input_schema."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="A version number; the latest when left out."
    )
    idempotency_key = serializers.CharField(
        required=False,
        max_length=200,
        help_text="A second start with the same key returns the first run (200) instead.",
    )


class StepSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")

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
        ]


class RunSerializer(serializers.ModelSerializer):
    workflow_name = serializers.CharField(source="workflow.name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "workflow",
            "workflow_name",
            "version",
            "status",
            "trigger",
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

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "input", "output", "steps", "children"]
        fields += ["last_event_id"]

    def get_children(self, run: Run) -> list[int]:
        return list(run.children.order_by("id").values_list("id", flat=True)[:1000])

    def get_last_event_id(self, run: Run) -> int | None:
        # The views read it before the run and its steps (context), so no change can fall
        # between the state shown and the cursor.
        if "last_event_id" in self.context:
            return self.context["last_event_id"]
        return last_event_id(run.pk)


def last_event_id(run_id: int) -> int | None:
    return (
        RunEvent.objects.filter(run_id=run_id).order_by("-id").values_list("id", flat=True).first()
    )


class EventSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

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


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
