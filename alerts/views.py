"""The alerts API: rules (CRUD), incidents (list, resolve), and the dead letters (runs that
failed for good) with their bulk retry.

Rules of a workflow need the editor role on it (no role at all is 404); global rules are
staff only. Incidents are seen by whoever may see their workflow; resolving one (acknowledging
it) needs the runner role, like the other operator actions.
"""

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.actions import do_resolve_alert, do_retry_dead_letter
from alerts.models import Alert, AlertRule
from alerts.serializers import (
    AlertRuleSerializer,
    AlertSerializer,
    BulkRetryResponseSerializer,
    BulkRetrySerializer,
    DeadLetterRunSerializer,
)
from designer.models import ROLE_RANK, Role, Workflow, WorkflowGrant
from designer.permissions import role_of, visible_workflows
from designer.serializers import ErrorsSerializer
from engine.models import Run, StepRun
from engine.states import STEP_ACTIVE, RunStatus, StepStatus
from engine.views import RunCursor, bad_request, check_role, conflict
from flowdeck.pagination import PageNumberPagination
from flowdeck.params import object_id

ERRORS = {400: ErrorsSerializer, 403: ErrorsSerializer, 404: ErrorsSerializer}
ALERT_STATUS_FILTERS = ("open", "resolved", "all")


def editable_workflows(user: Any) -> QuerySet[Workflow]:
    """Workflows on which the user has the editor role or better."""
    if user.is_staff:
        return Workflow.objects.all()
    strong = [r for r in Role if ROLE_RANK[r] >= ROLE_RANK[Role.EDITOR]]
    granted = WorkflowGrant.objects.filter(Q(user=user) | Q(group__in=user.groups.all())).filter(
        role__in=strong
    )
    return Workflow.objects.filter(Q(owner=user) | Q(pk__in=granted.values("workflow_id")))


def check_rule_scope(user: Any, workflow: Workflow | None) -> None:
    """May ``user`` hold a rule on ``workflow`` (None: a global rule)?"""
    if workflow is None:
        if not user.is_staff:
            raise PermissionDenied("global rules (no workflow) are for staff only")
        return
    if role_of(user, workflow) is None:
        # As if it did not exist: the same answer as an unknown id.
        raise bad_request(
            [
                {
                    "field": "workflow",
                    "code": "does_not_exist",
                    "message": f'Invalid pk "{workflow.pk}" - object does not exist.',
                }
            ]
        )
    check_role(user, workflow, Role.EDITOR)


class AlertRuleListView(generics.ListCreateAPIView):
    """Alert rules the caller may edit (staff: all, with the global ones); create one."""

    serializer_class = AlertRuleSerializer
    pagination_class = PageNumberPagination

    def get_queryset(self) -> QuerySet[AlertRule]:
        rules = AlertRule.objects.select_related("owner").order_by("id")
        user = self.request.user
        if user.is_staff:
            return rules
        return rules.filter(workflow__in=editable_workflows(user))

    @extend_schema(responses={201: AlertRuleSerializer, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        check_rule_scope(self.request.user, serializer.validated_data.get("workflow"))
        serializer.save(owner=self.request.user)


class AlertRuleDetailView(generics.RetrieveUpdateDestroyAPIView):
    """One rule: read, change (PUT or PATCH), delete (with its incidents)."""

    serializer_class = AlertRuleSerializer

    def get_object(self) -> AlertRule:
        try:
            rule = AlertRule.objects.select_related("workflow", "owner").get(
                pk=object_id(self.kwargs["pk"])
            )
        except (AlertRule.DoesNotExist, ValueError):
            raise NotFound("no such alert rule") from None
        user = self.request.user
        if rule.workflow is None:
            if not user.is_staff:
                raise NotFound("no such alert rule")
        else:
            check_role(user, rule.workflow, Role.EDITOR)
        return rule

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        if "workflow" in serializer.validated_data:
            check_rule_scope(self.request.user, serializer.validated_data["workflow"])
        serializer.save()


class AlertListView(generics.ListAPIView):
    """Incidents on workflows the caller may see, newest first. ``status``: open (the
    default), resolved or all; ``rule`` and ``workflow`` filter."""

    serializer_class = AlertSerializer
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ALERT_STATUS_FILTERS),
            OpenApiParameter("rule", OpenApiTypes.INT),
            OpenApiParameter("workflow", OpenApiTypes.INT),
        ],
        responses={200: AlertSerializer(many=True), 400: ErrorsSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Alert]:
        user, params = self.request.user, self.request.query_params
        alerts = Alert.objects.select_related("rule", "resolved_by").order_by("-id")
        if not user.is_staff:
            visible = list(visible_workflows(user).values_list("pk", flat=True))
            alerts = alerts.filter(workflow_id__in=visible)
        wanted = params.get("status", "open")
        if wanted not in ALERT_STATUS_FILTERS:
            raise bad_request(
                [
                    {
                        "field": "status",
                        "code": "invalid",
                        "message": "status is open, resolved or all",
                    }
                ]
            )
        if wanted == "open":
            alerts = alerts.filter(resolved_at__isnull=True)
        elif wanted == "resolved":
            alerts = alerts.filter(resolved_at__isnull=False)
        for name in ("rule", "workflow"):
            if name in params:
                try:
                    alerts = alerts.filter(**{f"{name}_id": object_id(params[name])})
                except ValueError:
                    raise bad_request(
                        [{"field": name, "code": "invalid", "message": f"{name} is an id"}]
                    ) from None
        return alerts


class ResolveAlertView(APIView):
    @extend_schema(request=None, responses={200: AlertSerializer, 409: ErrorsSerializer, **ERRORS})
    def post(self, request: Request, pk: str) -> Response:
        """Acknowledge an incident (runner role on its workflow): it shows as resolved and sends
        no more reminders; while its condition lasts it opens no new incident. 409 if it is
        already resolved."""
        try:
            alert = Alert.objects.select_related("workflow").get(pk=object_id(pk))
        except (Alert.DoesNotExist, ValueError):
            raise NotFound("no such alert") from None
        if alert.workflow is None:
            if not request.user.is_staff:
                raise NotFound("no such alert")
        else:
            check_role(request.user, alert.workflow, Role.RUNNER)
        if not do_resolve_alert(alert.pk, actor=request.user):
            raise conflict("the alert is already resolved", "alert_resolved")
        alert = Alert.objects.select_related("rule", "resolved_by").get(pk=alert.pk)
        return Response(AlertSerializer(alert).data)


# --- Dead letters: runs that failed for good ----------------------------------------------------


def dead_letters() -> QuerySet[Run]:
    """Failed top-level runs with nothing pending (no step queued, running, retrying or
    waiting): nothing will move them again but an operator."""
    active = StepRun.objects.filter(run_id=OuterRef("pk"), status__in=STEP_ACTIVE)
    return (
        Run.objects.filter(test=False, status=RunStatus.FAILED, parent_run__isnull=True)
        .filter(~Exists(active))
        .select_related("workflow", "version", "actor")
        .prefetch_related(
            Prefetch(
                "steps",
                StepRun.objects.filter(status=StepStatus.FAILED).only("run", "node_id", "status"),
            )
        )
    )


class DeadLetterListView(generics.ListAPIView):
    """Runs that failed for good, newest first, with their failed steps; filter ``workflow``."""

    serializer_class = DeadLetterRunSerializer
    pagination_class = RunCursor

    @extend_schema(parameters=[OpenApiParameter("workflow", OpenApiTypes.INT)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Run]:
        runs = dead_letters()
        user, params = self.request.user, self.request.query_params
        if not user.is_staff:
            visible = list(visible_workflows(user).values_list("pk", flat=True))
            runs = runs.filter(workflow_id__in=visible)
        if "workflow" in params:
            try:
                runs = runs.filter(workflow_id=object_id(params["workflow"]))
            except ValueError:
                raise bad_request(
                    [{"field": "workflow", "code": "invalid", "message": "workflow is an id"}]
                ) from None
        return runs


class DeadLetterRetryView(APIView):
    @extend_schema(
        request=BulkRetrySerializer,
        responses={200: BulkRetryResponseSerializer, 400: ErrorsSerializer},
    )
    def post(self, request: Request) -> Response:
        """Retry the failed steps of each run (runner role), through the same transition as
        ``POST /api/runs/{id}/steps/{node}/retry/``. One result per run: ``retried``,
        ``not_found`` (no such run, or not the caller's to see), ``forbidden`` (a weaker role),
        or ``conflict`` (not a failed run any more)."""
        body = BulkRetrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        results = [
            do_retry_dead_letter(run_id, actor=request.user, reason=reason)
            for run_id in dict.fromkeys(body.validated_data["runs"])
        ]
        return Response({"results": results}, status=status.HTTP_200_OK)
