from typing import Any

from django.contrib.auth.models import Group, User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from designer.models import Role, StepTest, Workflow, WorkflowGrant, WorkflowVersion
from designer.permissions import role_of
from engine.states import RunStatus
from engine.testruns import MODES, STEP
from flowdeck.fields import StrictBooleanField

# A graph is any JSON here; the validator, not the serializer, says what is wrong with it, so
# that every violation comes back at once with its node and field.
GRAPH_FIELD_HELP = "The workflow graph (CONTRACT §1)."


@extend_schema_field({"$ref": "#/components/schemas/Graph"})
class GraphField(serializers.JSONField):
    """Documented as the graph's JSON Schema (the structure designer/validation.py checks
    first; flowdeck/openapi.py adds it); the field itself takes any JSON so that the validator
    reports every problem."""


class ErrorSerializer(serializers.Serializer):
    node = serializers.CharField(allow_null=True)
    edge = serializers.CharField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorsSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)


class StaleSerializer(ErrorsSerializer):
    latest_version = serializers.IntegerField()


class VersionSummarySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "author", "note", "created_at"]


class VersionSerializer(VersionSummarySerializer):
    graph = GraphField(help_text=GRAPH_FIELD_HELP)

    class Meta(VersionSummarySerializer.Meta):
        fields = [*VersionSummarySerializer.Meta.fields, "graph"]


class RunSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    created_at = serializers.DateTimeField()


class WorkflowSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    role = serializers.SerializerMethodField(help_text="The caller's role on this workflow.")
    last_run = serializers.SerializerMethodField(help_text="The newest run, or null.")
    trigger = serializers.SerializerMethodField(
        help_text="The type of the newest version's trigger node (trigger.manual, ...), or null."
    )

    class Meta:
        model = Workflow
        fields = [
            "id",
            "name",
            "description",
            "owner",
            "archived",
            "latest_version",
            "trigger",
            "max_concurrent_runs",
            "require_tests",
            "role",
            "last_run",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, workflow: Workflow) -> str | None:
        user = self.context["request"].user
        # The list annotates the caller's best grant (WorkflowViewSet.get_queryset); owners and
        # staff need no query either way.
        if hasattr(workflow, "granted_role") and not (
            user.is_staff or workflow.owner_id == user.pk
        ):
            return workflow.granted_role
        return role_of(user, workflow)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_trigger(self, workflow: Workflow) -> str | None:
        # The list annotates it (WorkflowViewSet.get_queryset); one workflow costs one query.
        if hasattr(workflow, "trigger_type"):
            return workflow.trigger_type or None
        kind = (
            workflow.versions.filter(number=workflow.latest_version)
            .values_list("trigger_type", flat=True)
            .first()
        )
        return kind or None

    @extend_schema_field(RunSummarySerializer(allow_null=True))
    def get_last_run(self, workflow: Workflow) -> dict[str, Any] | None:
        if hasattr(workflow, "last_run_pk"):
            if workflow.last_run_pk is None:
                return None
            run = {
                "id": workflow.last_run_pk,
                "status": workflow.last_run_status,
                "created_at": workflow.last_run_created_at,
            }
        else:
            # One workflow (read, created, saved): one query.
            run = workflow.runs.order_by("-id").values("id", "status", "created_at").first()
        return None if run is None else RunSummarySerializer(run).data


class WorkflowDetailSerializer(WorkflowSerializer):
    version = serializers.SerializerMethodField()

    class Meta(WorkflowSerializer.Meta):
        fields = [*WorkflowSerializer.Meta.fields, "version"]

    @extend_schema_field(VersionSerializer)
    def get_version(self, workflow: Workflow) -> dict[str, Any]:
        version = workflow.versions.select_related("author").get(number=workflow.latest_version)
        return VersionSerializer(version).data


class WorkflowCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    graph = GraphField(help_text=GRAPH_FIELD_HELP)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WorkflowSaveSerializer(serializers.Serializer):
    graph = GraphField(help_text=GRAPH_FIELD_HELP)
    base_version = serializers.IntegerField(
        min_value=1,
        help_text="The version this edit started from; 409 when another save came since.",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class WorkflowPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    archived = StrictBooleanField(required=False)
    max_concurrent_runs = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=10_000,
        help_text="At most this many runs at once; the rest wait queued. null: no limit.",
    )
    require_tests = StrictBooleanField(
        required=False,
        help_text="Saving a version first runs the step tests against it; refused (409) while "
        "one fails.",
    )


class ValidateSerializer(serializers.Serializer):
    # Any JSON: validating is the point, and every problem comes back as an error (200).
    graph = serializers.JSONField(
        help_text="A workflow graph to check (CONTRACT §1); any JSON is answered with its errors."
    )


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ErrorSerializer(many=True)


class PreviewSerializer(serializers.Serializer):
    source = serializers.CharField(
        max_length=20_000,
        trim_whitespace=False,
        help_text="An expression (mode expression) or a template, as a config field holds it.",
    )
    mode = serializers.ChoiceField(choices=["expression", "template"], default="template")
    run = serializers.IntegerField(
        required=False, min_value=1, help_text="A run of this workflow; default: its newest."
    )


class PreviewErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PreviewResultSerializer(serializers.Serializer):
    run = RunSummarySerializer(allow_null=True, help_text="The run whose data was used, or null.")
    pinned = serializers.ListField(
        child=serializers.CharField(), help_text="The steps whose pinned output was used."
    )
    value = serializers.JSONField(allow_null=True, help_text="The value, or null.")
    error = PreviewErrorSerializer(
        allow_null=True, help_text="Why it has no value there (as the step would fail), or null."
    )


class PinSerializer(serializers.Serializer):
    output = serializers.JSONField(
        allow_null=True, help_text="The output the step gives test runs instead."
    )
    handle = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The output handle it chose (a branching step's); blank: out.",
    )
    pinned_by = serializers.CharField(read_only=True)
    pinned_at = serializers.DateTimeField(read_only=True)


class PinsSerializer(serializers.Serializer):
    pins = serializers.DictField(child=PinSerializer(), help_text="By node id.")


class TestRunSerializer(serializers.Serializer):
    graph = GraphField(help_text="The draft as it is on the canvas (saved or not).")
    node = serializers.CharField(max_length=64, help_text="The step to test.")
    mode = serializers.ChoiceField(
        choices=list(MODES),
        default=STEP,
        help_text="step: run this step, its upstream steps' outputs taken from what was typed, "
        "the pins, or the newest runs; upto: run the draft from the trigger to this step, "
        "taking only what was typed and pinned.",
    )
    input = serializers.JSONField(
        required=False, help_text="The run's input; default: the newest run's, or a sample."
    )
    data = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Outputs typed for steps above the tested one, by node id; they come first.",
    )
    confirm_effects = StrictBooleanField(
        default=False,
        help_text="Run steps that change things outside (http.request other than GET and "
        "HEAD, notify.email) for real; without it such a test gets 409 naming them.",
    )
    capture_email = StrictBooleanField(
        default=True, help_text="notify.email keeps its message in its output, sends nothing."
    )
    run = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="A run of this workflow being debugged: the steps above take the results "
        "they had in it (output and branch chosen, or skipped), after what was typed and "
        "before pins, and the test its input.",
    )


@extend_schema_field(
    {
        "type": "object",
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"enum": ["equals"]}, "value": {}},
                "required": ["kind", "value"],
            },
            {
                "type": "object",
                "properties": {"kind": {"enum": ["schema"]}, "schema": {"type": "object"}},
                "required": ["kind", "schema"],
            },
            {
                "type": "object",
                "properties": {"kind": {"enum": ["expression"]}, "expression": {"type": "string"}},
                "required": ["kind", "expression"],
            },
        ],
    }
)
class ExpectationField(serializers.JSONField):
    """One expectation; engine/steptests.py checks it (with the field naming its index)."""


class StepTestSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200)
    node = serializers.CharField(max_length=64, help_text="The step tested.")
    data = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        default=dict,
        help_text="Outputs of steps above it, by node id: the test gives them these and takes "
        "nothing else (no pins, no recent runs).",
    )
    input = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The run's input; null: the input_schema's first example, or {}.",
    )
    expect = serializers.ListField(
        child=ExpectationField(),
        help_text="What the step's output must be: equal to a value, valid against a JSON "
        "Schema, or make an expression true (output, input, steps in scope).",
    )
    confirm_effects = StrictBooleanField(
        required=False,
        default=False,
        help_text="Run steps that change things outside (an http.request other than GET or "
        "HEAD) for real; without it such a test fails. Emails are always captured.",
    )
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = StepTest
        fields = [
            "id",
            "name",
            "node",
            "data",
            "input",
            "expect",
            "confirm_effects",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        # Unique names are checked by do_save_step_test, with the API's error.
        validators: list = []


class RunStepTestsSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Test this version; default: the newest."
    )
    graph = GraphField(required=False, help_text="Test this draft instead of a version.")
    names = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=500,
        help_text="Run only these tests; default: all.",
    )

    def validate(self, attrs: dict) -> dict:
        if "version" in attrs and "graph" in attrs:
            raise serializers.ValidationError({"graph": "give a version or a graph, not both"})
        return attrs


class StepTestFailureSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["equals", "schema", "expression", "step", "start", "timeout"]
    )
    message = serializers.CharField()


class StepTestResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    node = serializers.CharField()
    passed = serializers.BooleanField()
    failures = StepTestFailureSerializer(many=True)
    run = serializers.IntegerField(allow_null=True, help_text="The test run, or null.")
    duration_ms = serializers.IntegerField(allow_null=True)


class StepTestRunSerializer(serializers.Serializer):
    passed = serializers.BooleanField(help_text="Every test passed.")
    results = StepTestResultSerializer(many=True)


class TestsFailedSerializer(ErrorsSerializer):
    results = StepTestResultSerializer(many=True)


class GrantSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = WorkflowGrant
        fields = ["id", "user", "group", "role", "created_at"]
        read_only_fields = ["id", "created_at"]
        # The model's partial unique constraints are enforced by do_grant (update_or_create).
        validators: list = []

    def validate(self, attrs: dict) -> dict:
        if (attrs.get("user") is None) == (attrs.get("group") is None):
            raise serializers.ValidationError("give exactly one of user or group")
        return attrs


class ExportDocumentSerializer(serializers.Serializer):
    kind = serializers.CharField(default="flowdeck.workflow")
    version = serializers.IntegerField(default=1)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    graph = GraphField(help_text=GRAPH_FIELD_HELP)


class StepTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    is_trigger = serializers.BooleanField()
    config_schema = serializers.JSONField()
    handles = serializers.ListField(child=serializers.CharField(), allow_null=True)
    handles_from_config = serializers.JSONField(allow_null=True)
    expression_fields = serializers.ListField(child=serializers.CharField())
    item_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="Config paths rendered once per item, where item and index are in scope.",
    )
