"""The schedules API: a workflow's schedule (read by viewers, paused and resumed by runners)
and the preview of a cron expression's next times for the designer.

Pausing is the runner's: it changes when runs start, not what they do, and a runner may start
runs by hand anyway; changing the cron, zone or input is a new version (editor role).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.models import Role, Workflow
from designer.serializers import ErrorsSerializer
from engine import schedules
from engine.schedule_models import CatchUp, Overlap, ScheduleState, WorkflowSchedule
from engine.views import check_role
from flowdeck.errors import ApiError, api_error
from flowdeck.fields import StrictBooleanField
from flowdeck.params import object_id

ERRORS = {400: ErrorsSerializer, 403: ErrorsSerializer, 404: ErrorsSerializer}


class ScheduleNoteSerializer(serializers.Serializer):
    """A slot that started nothing (``reason``: missed, overlap, queue_full, paused, disabled,
    archived) or could not start its run (``code``: invalid_input, start_failed, never_fires)."""

    slot = serializers.CharField(allow_null=True, help_text="the slot (UTC), if one")
    since = serializers.CharField(required=False, help_text="the oldest slot concerned (UTC)")
    reason = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), required=False)
    at = serializers.CharField(help_text="when it was recorded (UTC)")


class ScheduleSerializer(serializers.ModelSerializer):
    workflow = serializers.IntegerField(source="workflow_id", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    node = serializers.CharField(source="node_id", read_only=True)
    state = serializers.ChoiceField(choices=ScheduleState.choices, read_only=True)
    catch_up = serializers.ChoiceField(choices=CatchUp.choices, read_only=True)
    overlap = serializers.ChoiceField(choices=Overlap.choices, read_only=True)
    paused_by = serializers.CharField(
        source="paused_by.username", read_only=True, default=None, allow_null=True
    )
    next_fire_times = serializers.SerializerMethodField(
        help_text="the next five times it fires, ISO 8601 with its zone's offset; empty when "
        "it fires nothing (paused, disabled, archived)"
    )
    last_run = serializers.IntegerField(source="last_run_id", read_only=True, allow_null=True)
    last_skipped = ScheduleNoteSerializer(read_only=True, allow_null=True)
    last_error = ScheduleNoteSerializer(read_only=True, allow_null=True)
    pending_slots = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = WorkflowSchedule
        fields = [
            "workflow",
            "version",
            "node",
            "cron",
            "timezone",
            "input",
            "enabled",
            "paused",
            "paused_by",
            "paused_at",
            "state",
            "catch_up",
            "catch_up_limit",
            "overlap",
            "next_fire_at",
            "next_fire_times",
            "last_fired_at",
            "last_run",
            "last_skipped",
            "last_error",
            "pending_slots",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_next_fire_times(self, schedule: WorkflowSchedule) -> list[str]:
        return [moment.isoformat() for moment in schedules.upcoming(schedule)]


class PauseSerializer(serializers.Serializer):
    paused = StrictBooleanField()


class PreviewRequestSerializer(serializers.Serializer):
    cron = serializers.CharField(max_length=200)
    timezone = serializers.CharField(max_length=64, default="UTC")


class PreviewSerializer(serializers.Serializer):
    cron = serializers.CharField()
    timezone = serializers.CharField()
    next_fire_times = serializers.ListField(
        child=serializers.CharField(), help_text="ISO 8601 with the zone's offset"
    )


def _schedule_of(request: Request, workflow_id: str, needed: Role) -> WorkflowSchedule:
    try:
        workflow = Workflow.objects.get(pk=object_id(workflow_id))
    except (Workflow.DoesNotExist, ValueError):
        raise NotFound("no such workflow") from None
    check_role(request.user, workflow, needed)
    schedule = (
        WorkflowSchedule.objects.select_related("workflow", "version", "paused_by")
        .filter(workflow=workflow)
        .first()
    )
    if schedule is None:
        raise NotFound("this workflow has no schedule: its newest version has no trigger.schedule")
    return schedule


class WorkflowScheduleView(APIView):
    """A workflow's schedule: read it (viewer role), pause or resume it (runner role)."""

    @extend_schema(responses={200: ScheduleSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: str) -> Response:
        """The schedule planned from the newest version's trigger.schedule node: its next five
        fire times, the last fire, the last skipped slot and the last error; 404 when the
        workflow has none."""
        return Response(ScheduleSerializer(_schedule_of(request, workflow_id, Role.VIEWER)).data)

    @extend_schema(request=PauseSerializer, responses={200: ScheduleSerializer, **ERRORS})
    def patch(self, request: Request, workflow_id: str) -> Response:
        """Pause (nothing fires, queued slots are dropped) or resume (fires again from the next
        slot; the slots that passed meanwhile never fire) without a new version. Runner role."""
        schedule = _schedule_of(request, workflow_id, Role.RUNNER)
        body = PauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        schedules.do_set_paused(
            schedule_id=schedule.pk, paused=body.validated_data["paused"], actor=request.user
        )
        return Response(ScheduleSerializer(_schedule_of(request, workflow_id, Role.VIEWER)).data)


class SchedulePreviewView(APIView):
    """The next five times a cron expression fires in a time zone, before saving it."""

    @extend_schema(
        request=PreviewRequestSerializer,
        responses={200: PreviewSerializer, 400: ErrorsSerializer},
    )
    def post(self, request: Request) -> Response:
        """``{cron, timezone}`` (any logged-in user) -> the next five fire times, read as the
        schedule will be (Vixie cron semantics across daylight-saving changes); 400 naming
        ``cron`` or ``timezone`` when one is not valid, ``never_fires`` for a cron that
        matches no date."""
        body = PreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cron, zone = body.validated_data["cron"], body.validated_data["timezone"]
        try:
            times = schedules.preview(cron, zone, timezone.now())
        except schedules.CronInvalid as exc:
            raise ApiError(
                status.HTTP_400_BAD_REQUEST, [api_error(exc.code, str(exc), field=exc.field)]
            ) from exc
        return Response(
            PreviewSerializer(
                {"cron": cron, "timezone": zone, "next_fire_times": [t.isoformat() for t in times]}
            ).data
        )
