"""The runs API (CONTRACT §5): start, list, read, events, cancel, and operator retry and skip;
and the approvals API: the inbox of human tasks, decide, delegate.

Who may do what with runs follows the workflow's sharing: a viewer reads its runs, a runner
starts and operates them; no role at all is 404. Human tasks belong to their assignees: they
see and act on them; a role on the workflow lets one see (not decide) its runs' tasks.
"""

import hashlib
from typing import Any

import jsonschema
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import F, Prefetch, QuerySet
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.catalog import catalog
from designer.models import ROLE_RANK, Role, Workflow, WorkflowVersion
from designer.permissions import role_of, visible_workflows
from designer.serializers import ErrorsSerializer
from engine import attachments, compare, discussion, stats, transitions
from engine.models import (
    HumanTask,
    Run,
    RunEvent,
    StepLog,
    StepRun,
    TaskAttachment,
    TaskComment,
    TaskDecision,
    TaskDelegation,
    TaskKind,
    Trigger,
    tasks_awaiting,
    tasks_involving,
)
from engine.serializers import (
    AttemptCompareSerializer,
    BulkDecideResultSerializer,
    BulkDecideSerializer,
    CancelSerializer,
    DecideSerializer,
    DelegateSerializer,
    EventPageSerializer,
    EventSerializer,
    NewAttachmentSerializer,
    NewCommentSerializer,
    ReplaySerializer,
    RetrySerializer,
    RunCompareSerializer,
    RunDetailSerializer,
    RunSerializer,
    SkipSerializer,
    StartRunSerializer,
    StatsSerializer,
    StepLogsSerializer,
    StepSerializer,
    TaskAttachmentSerializer,
    TaskAttachmentsSerializer,
    TaskCommentSerializer,
    TaskCommentsSerializer,
    TaskSerializer,
    run_detail_data,
)
from engine.states import RunStatus, TaskStatus
from flowdeck.errors import ApiError, PayloadTooLarge, api_error
from flowdeck.pagination import PageNumberPagination, StrictPageSize
from flowdeck.params import bool_param, int_param, object_id, time_param

ERRORS = {400: ErrorsSerializer, 403: ErrorsSerializer, 404: ErrorsSerializer}
EVENTS_PAGE = 500


def check_role(user: Any, workflow: Workflow, needed: Role) -> None:
    """404 for who may not see the workflow, 403 for a weaker role than ``needed``."""
    role = role_of(user, workflow)
    if role is None:
        raise NotFound("no such run or workflow")
    if ROLE_RANK[role] < ROLE_RANK[needed]:
        raise PermissionDenied(f"this needs the {needed} role on the workflow; you are {role}")


def conflict(message: str, code: str = "conflict", **where: Any) -> ApiError:
    return ApiError(status.HTTP_409_CONFLICT, [api_error(code, message, **where)])


def bad_request(errors: list[dict[str, Any]], status_code: int = 400) -> ApiError:
    """400 (or ``status_code``: 413 for an input over the size limit) with ``errors``."""
    return ApiError(
        status_code,
        [
            api_error(e["code"], e["message"], field=e.get("field"), node=e.get("node"))
            for e in errors
        ],
    )


class RunCursor(StrictPageSize, CursorPagination):
    """Keyset pages, newest first: no COUNT(*), steady at any depth of a big table."""

    ordering = "-id"
    page_size = 50


def get_run(request: Request, pk: Any, needed: Role) -> Run:
    try:
        run = Run.objects.select_related("workflow", "version", "actor").get(pk=object_id(pk))
    except (Run.DoesNotExist, ValueError):
        raise NotFound("no such run") from None
    check_role(request.user, run.workflow, needed)
    return run


TEST_PARAMETER = OpenApiParameter(
    "test", OpenApiTypes.BOOL, description="the designer's test runs instead of real ones"
)


class WorkflowRunsView(generics.GenericAPIView):
    """Start a run of a workflow, or list its runs."""

    serializer_class = RunSerializer
    pagination_class = RunCursor

    def get_workflow(self, needed: Role) -> Workflow:
        try:
            workflow = Workflow.objects.get(pk=object_id(self.kwargs["workflow_id"]))
        except (Workflow.DoesNotExist, ValueError):
            raise NotFound("no such workflow") from None
        check_role(self.request.user, workflow, needed)
        return workflow

    @extend_schema(responses={200: RunSerializer(many=True)}, parameters=[TEST_PARAMETER])
    def get(self, request: Request, workflow_id: str) -> Response:
        """The workflow's runs, newest first (its test runs instead with test=true)."""
        workflow = self.get_workflow(Role.VIEWER)
        runs = filter_runs(request, Run.objects.filter(workflow=workflow))
        page = self.paginate_queryset(runs.select_related("workflow", "version", "actor"))
        return self.get_paginated_response(RunSerializer(page, many=True).data)

    @extend_schema(
        request=StartRunSerializer,
        responses={
            201: RunDetailSerializer,
            200: RunDetailSerializer,
            409: ErrorsSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        """Start a run (runner role). An idempotency_key already used returns that run (200)."""
        workflow = self.get_workflow(Role.RUNNER)
        body = StartRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            version, run_input = transitions.check_start(
                workflow, data.get("version"), data.get("input")
            )
        except transitions.Conflict as exc:
            raise conflict(str(exc), "archived") from exc
        except transitions.UnknownVersion as exc:
            raise ApiError(
                status.HTTP_400_BAD_REQUEST,
                [api_error("unknown_version", str(exc), field="version")],
            ) from exc
        except transitions.InputInvalid as exc:  # 413 for InputTooLarge
            raise bad_request(exc.errors, exc.status) from exc
        trigger = Trigger.MANUAL if request.auth is None else Trigger.API
        run, created = transitions.do_start_run(
            version=version,
            input=run_input,
            trigger=trigger,
            actor=request.user,
            idempotency_key=data.get("idempotency_key"),
            priority=data.get("priority"),
        )
        return Response(
            run_detail_data(run.pk),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def choices(params: Any, name: str, allowed: list[str]) -> list[str]:
    """The comma-separated values of query parameter ``name``; 400 naming it for any other."""
    wanted = params[name].split(",")
    unknown = [value for value in wanted if value not in allowed]
    if unknown:
        raise bad_request(
            [{"field": name, "code": "invalid", "message": f"unknown {name} {unknown[0]!r}"}]
        )
    return wanted


def filter_runs(request: Request, runs: QuerySet[Run]) -> QuerySet[Run]:
    params = request.query_params
    if "workflow" in params:
        try:
            runs = runs.filter(workflow_id=object_id(params["workflow"]))
        except ValueError:
            raise bad_request(
                [{"field": "workflow", "code": "invalid", "message": "workflow is an id"}]
            ) from None
    if "status" in params:
        runs = runs.filter(status__in=choices(params, "status", RunStatus.values))
    since = time_param(params, "since")
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    until = time_param(params, "until")
    if until is not None:
        runs = runs.filter(created_at__lt=until)
    if "trigger" in params:
        runs = runs.filter(trigger__in=choices(params, "trigger", Trigger.values))
    if "actor" in params:
        runs = runs.filter(actor__username=params["actor"])
    parent = int_param(params, "parent", minimum=1)
    if parent is not None:
        runs = runs.filter(parent_run_id=parent)
    elif bool_param(params, "top_level"):
        runs = runs.filter(parent_run__isnull=True)
    # The designer's test runs only with test=true, never mixed in; a run's children are its
    # children, test or not.
    if parent is None:
        runs = runs.filter(test=bool(bool_param(params, "test")))
    return runs


class RunListView(generics.ListAPIView):
    """Runs the caller may see, newest first; filters workflow, status (comma-separated), since,
    parent."""

    serializer_class = RunSerializer
    pagination_class = RunCursor

    @extend_schema(
        parameters=[
            OpenApiParameter("workflow", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR, description="e.g. failed,cancelled"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="created at or after"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="created before"),
            OpenApiParameter("trigger", OpenApiTypes.STR, description="e.g. manual,schedule"),
            OpenApiParameter("actor", OpenApiTypes.STR, description="username who started it"),
            OpenApiParameter("parent", OpenApiTypes.INT, description="child runs of this run"),
            OpenApiParameter("top_level", OpenApiTypes.BOOL, description="no child runs"),
            TEST_PARAMETER,
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Run]:
        runs = Run.objects.select_related("workflow", "version", "actor")
        if not self.request.user.is_staff:
            # The ids first: a short list lets the database use the (workflow, -id) index,
            # where a subquery with grants and groups made it scan (bench/runs_list.py).
            visible = list(visible_workflows(self.request.user).values_list("pk", flat=True))
            runs = runs.filter(workflow_id__in=visible)
        return filter_runs(self.request, runs)


class RunDetailView(APIView):
    @extend_schema(responses={200: RunDetailSerializer, **ERRORS})
    def get(self, request: Request, pk: str) -> Response:
        """A run with its steps: status, attempts, input, output, error, times."""
        run = get_run(request, pk, Role.VIEWER)
        return Response(run_detail_data(run.pk))


class RunEventsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("after", OpenApiTypes.INT, description="an event id")],
        responses={200: EventPageSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: str) -> Response:
        """The run's event log after the cursor, oldest first, up to 500 per page."""
        run = get_run(request, pk, Role.VIEWER)
        try:
            after = object_id(request.query_params.get("after", "0"))
        except ValueError:
            raise bad_request(
                [{"field": "after", "code": "invalid", "message": "after is an event id"}]
            ) from None
        rows = list(
            RunEvent.objects.filter(run=run, id__gt=after)
            .select_related("actor")
            .order_by("id")[: EVENTS_PAGE + 1]
        )
        more = len(rows) > EVENTS_PAGE
        rows = rows[:EVENTS_PAGE]
        return Response(
            {
                "events": EventSerializer(rows, many=True).data,
                "next_after": rows[-1].id if more else None,
            }
        )


class StepLogsView(APIView):
    @extend_schema(responses={200: StepLogsSerializer, **ERRORS})
    def get(self, request: Request, pk: str, node: str) -> Response:
        """What the step wrote through ctx.log, per attempt (the last 5 attempts that logged),
        each line with its time and level. Stored when an attempt ends: a running attempt's
        lines appear with its outcome."""
        run = get_run(request, pk, Role.VIEWER)
        step = StepRun.objects.filter(run=run, node_id=node).only("pk", "attempt").first()
        if step is None:
            raise NotFound(f"the run has no step {node!r}")
        attempts = StepLog.objects.filter(step=step).order_by("attempt")
        return Response(
            StepLogsSerializer({"node": node, "attempt": step.attempt, "attempts": attempts}).data
        )


def compared_id(params: Any, name: str, what: str) -> int:
    """Query parameter ``name``, required: an id (or attempt number) from 1; else 400 naming it."""
    text = params.get(name)
    try:
        value = object_id(text) if text is not None else 0
    except ValueError:
        value = 0
    if value < 1:
        message = f"{name} is required: {what}" if text is None else f"{name} is {what}"
        raise bad_request(
            [{"field": name, "code": "required" if text is None else "invalid", "message": message}]
        )
    return value


class RunCompareView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("a", OpenApiTypes.INT, required=True, description="a run id"),
            OpenApiParameter("b", OpenApiTypes.INT, required=True, description="a run id"),
        ],
        responses={200: RunCompareSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Two runs side by side (viewer role on both workflows): each run's summary, every
        step of either run with each run's status, attempts, duration, input, output and error
        and what differs, and the graph diff of their versions when those differ. 400 naming a
        or b when it is missing or not a run id; 404 when either run is unknown or not yours to
        see."""
        ids = [compared_id(request.query_params, name, "a run id") for name in ("a", "b")]
        run_a, run_b = (get_run(request, pk, Role.VIEWER) for pk in ids)
        steps = {
            run.pk: {s.node_id: s for s in StepRun.objects.filter(run=run)}
            for run in (run_a, run_b)
        }
        graph_a, graph_b = run_a.version.graph, run_b.version.graph
        types = {n["id"]: n["type"] for g in (graph_a, graph_b) for n in g.get("nodes", [])}
        versions = None
        if run_a.version_id != run_b.version_id:
            versions = {
                "a": run_a.version.number,
                "b": run_b.version.number,
                "same_workflow": run_a.workflow_id == run_b.workflow_id,
                **compare.diff_graphs(graph_a, graph_b),
            }
        body = {
            "a": run_a,
            "b": run_b,
            "steps": compare.compare_steps(
                steps[run_a.pk],
                steps[run_b.pk],
                types,
                order=compare.node_order(graph_a, graph_b),
            ),
            "versions": versions,
        }
        return Response(RunCompareSerializer(body).data)


class AttemptCompareView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("a", OpenApiTypes.INT, required=True, description="an attempt"),
            OpenApiParameter("b", OpenApiTypes.INT, required=True, description="an attempt"),
        ],
        responses={200: AttemptCompareSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: str, node: str) -> Response:
        """Two attempts of one step (viewer role): status, times, error, log lines and event
        types of each. A step keeps the input and output of its last attempt only, so for an
        earlier attempt they are null (input_kept, output_kept false), except the input an
        operator edited when retrying; changed.input and changed.output are then null. 400
        naming a or b when missing or not an attempt number; 404 for an attempt the step has
        not had."""
        numbers = [compared_id(request.query_params, name, "an attempt number") for name in "ab"]
        run = get_run(request, pk, Role.VIEWER)
        step = StepRun.objects.filter(run=run, node_id=node).first()
        if step is None:
            raise NotFound(f"the run has no step {node!r}")
        for number in numbers:
            if number > step.attempt:
                raise NotFound(f"step {node!r} has had {step.attempt} attempt(s), not {number}")
        events = list(RunEvent.objects.filter(run=run, node_id=node, attempt__in=numbers))
        logs = {log.attempt: log for log in StepLog.objects.filter(step=step, attempt__in=numbers)}
        a, b = (compare.attempt_history(step, events, logs, number) for number in numbers)
        body = {
            "run": run.pk,
            "node": node,
            "type": step.type,
            "attempts": step.attempt,
            "a": a,
            "b": b,
            "changed": compare.compare_attempts(a, b),
        }
        return Response(AttemptCompareSerializer(body).data)


class CancelRunView(APIView):
    @extend_schema(
        request=CancelSerializer,
        responses={200: RunDetailSerializer, 409: ErrorsSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Cancel the run (runner role): running attempts are told, waiting steps stop, child
        runs are cancelled. 409 if it has already ended. The reason goes to the event log."""
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"] or "cancelled by an operator"
        run = get_run(request, pk, Role.RUNNER)
        if not transitions.do_cancel_run(run.pk, actor=request.user, reason=reason):
            raise conflict(f"the run has already ended ({run.status})", "run_ended")
        return Response(run_detail_data(run.pk))


class ReplayRunView(APIView):
    @extend_schema(
        request=ReplaySerializer,
        responses={201: RunDetailSerializer, 409: ErrorsSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Replay an ended run on a (fixed) version (runner role): a new run with the same
        input, given the outputs of the steps that finished, running again the steps that
        failed or were cancelled (or ``start``) and what is below them. 409 when a step that
        finished is not in that version with the same id and type, or the run has not ended.
        Who, why and which version go to both runs' event logs; the runs link each other."""
        run = get_run(request, pk, Role.RUNNER)
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        number = data.get("version") or run.workflow.latest_version
        version = WorkflowVersion.objects.filter(workflow=run.workflow, number=number).first()
        if version is None:
            raise ApiError(
                status.HTTP_400_BAD_REQUEST,
                [api_error("unknown_version", f"no version {number}", field="version")],
            )
        try:
            replay = transitions.do_replay_run(
                run.pk,
                actor=request.user,
                version=version,
                reason=data["reason"],
                start=data.get("start"),
                trigger=Trigger.MANUAL if request.auth is None else Trigger.API,
            )
        except transitions.UnknownVersion as exc:
            raise ApiError(
                status.HTTP_400_BAD_REQUEST, [api_error("unknown_step", str(exc), field="start")]
            ) from exc
        except transitions.Conflict as exc:
            raise conflict(str(exc), exc.code, node=exc.node) from exc
        return Response(run_detail_data(replay.pk), status=status.HTTP_201_CREATED)


def _operate(request: Request, pk: str, node: str, action: Any) -> Response:
    run = get_run(request, pk, Role.RUNNER)
    try:
        step = action(run)
    except LookupError:
        raise NotFound(f"the run has no step {node!r}") from None
    except transitions.Conflict as exc:
        raise conflict(str(exc), "step_state", node=node) from exc
    return Response(StepSerializer(StepRun.objects.get(pk=step.pk)).data)


class RetryStepView(APIView):
    @extend_schema(
        request=RetrySerializer, responses={200: StepSerializer, 409: ErrorsSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: str, node: str) -> Response:
        """Run a failed step again, optionally with an edited input (its rendered config);
        the run reopens if it had failed. 409 unless the step failed."""
        body = RetrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        edited = body.validated_data.get("input")

        def retry(run: Run) -> StepRun:
            if edited is not None:
                check_edited_input(run, node, edited)
            return transitions.do_retry_step(
                run.pk, node, actor=request.user, input=edited, reason=body.validated_data["reason"]
            )

        return _operate(request, pk, node, retry)


def check_edited_input(run: Run, node: str, edited: dict[str, Any]) -> None:
    """An edited input must still be a valid config of the step's type."""
    step = StepRun.objects.filter(run=run, node_id=node).first()
    if step is None:
        raise LookupError(node)
    schema = catalog.get(step.type).config_schema
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(edited))
    if errors:
        raise bad_request(
            [
                {
                    "node": node,
                    "field": ".".join(["input", *map(str, e.absolute_path)]),
                    "code": str(e.validator),
                    "message": e.message,
                }
                for e in errors
            ]
        )


class SkipStepView(APIView):
    @extend_schema(
        request=SkipSerializer, responses={200: StepSerializer, 409: ErrorsSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: str, node: str) -> Response:
        """Skip a failed or waiting step: its outgoing edges are dead and the run goes on."""
        body = SkipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        return _operate(
            request,
            pk,
            node,
            lambda run: transitions.do_skip_step(run.pk, node, actor=request.user, reason=reason),
        )


# --- Human tasks: the inbox (CONTRACT §5 /api/approvals/) ---------------------------------------


def task_queryset() -> QuerySet[HumanTask]:
    """Tasks with everything TaskSerializer reads, in a fixed number of queries per page."""
    return HumanTask.objects.select_related("step", "run__workflow", "requester").prefetch_related(
        "assigned_users",
        "assigned_groups",
        Prefetch("decisions", TaskDecision.objects.select_related("user").order_by("id")),
        Prefetch(
            "delegations",
            TaskDelegation.objects.select_related("from_user", "to_user").order_by("id"),
        ),
    )


def task_response(request: Request, task_id: int) -> Response:
    task = task_queryset().get(pk=task_id)
    return Response(TaskSerializer(task, context={"user": request.user}).data)


REFUSALS = (LookupError, transitions.Forbidden, transitions.Conflict, transitions.InputInvalid)


def refusal_error(exc: Exception) -> ApiError:
    """The contract's error for one of the engine's refusals of a task action."""
    if isinstance(exc, LookupError):
        return ApiError(status.HTTP_404_NOT_FOUND, [api_error("not_found", "no such task")])
    if isinstance(exc, transitions.Forbidden):
        return ApiError(status.HTTP_403_FORBIDDEN, [api_error(exc.code, str(exc))])
    if isinstance(exc, transitions.Conflict):
        return conflict(str(exc), exc.code)
    assert isinstance(exc, transitions.InputInvalid)
    return bad_request(exc.errors)


def _task_errors(action: Any) -> Any:
    """Run ``action`` and turn the engine's refusals into the contract's errors."""
    try:
        return action()
    except LookupError:
        raise NotFound("no such task") from None
    except REFUSALS as exc:
        raise refusal_error(exc) from exc


def idempotency_key_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=False,
        description=description,
    )


class InboxPagination(PageNumberPagination):
    """Pages by number, with ``open``: how many open tasks wait for the caller (the badge)."""

    open_count = 0

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.page.paginator.count,
                "open": self.open_count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["properties"]["open"] = {"type": "integer", "example": 3}
        paged["required"] = ["count", "open", "results"]
        return paged


TASK_STATUS_FILTERS = ("open", "pending", "closed", "all")
# The inbox's orders: the newest first (the default, as CONTRACT §5 lists it), or by time left.
TASK_ORDERINGS: dict[str, tuple[Any, ...]] = {
    "newest": ("-id",),
    # The earliest due time first (the most overdue lead); tasks without one last, newest first.
    "due": (F("due_at").asc(nulls_last=True), "-id"),
}


class ApprovalListView(generics.ListAPIView):
    """The caller's inbox: approvals and forms assigned to them (by name, group or delegation),
    or that they decided or delegated, newest first (``ordering=newest``) or by time left
    (``ordering=due``: the earliest due time first, tasks without one last).

    ``status``: ``open`` (the default; ``pending`` is the same) lists the open tasks waiting for
    the caller's action; ``closed`` the closed ones; ``all`` both, with the open ones the caller
    has already acted on (waiting for other approvers). Filters ``kind`` and ``run``."""

    serializer_class = TaskSerializer
    pagination_class = InboxPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=TASK_STATUS_FILTERS),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=TaskKind.values),
            OpenApiParameter("run", OpenApiTypes.INT),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                enum=list(TASK_ORDERINGS),
                description="newest (the default): the newest first; due: by time left, the "
                "earliest due time first (overdue ones lead), tasks without a due time last.",
            ),
        ],
        responses={200: TaskSerializer(many=True), 400: ErrorsSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "user": self.request.user}

    def get_queryset(self) -> QuerySet[HumanTask]:
        user, params = self.request.user, self.request.query_params
        ordering = params.get("ordering", "newest")
        if ordering not in TASK_ORDERINGS:
            raise bad_request(
                [{"field": "ordering", "code": "invalid", "message": "ordering is newest or due"}]
            )
        tasks = task_queryset().order_by(*TASK_ORDERINGS[ordering])
        if "kind" in params:
            if params["kind"] not in TaskKind.values:
                raise bad_request(
                    [{"field": "kind", "code": "invalid", "message": "kind is approval or form"}]
                )
            tasks = tasks.filter(kind=params["kind"])
        if "run" in params:
            try:
                tasks = tasks.filter(run_id=object_id(params["run"]))
            except ValueError:
                raise bad_request(
                    [{"field": "run", "code": "invalid", "message": "run is a run id"}]
                ) from None
        wanted = params.get("status", "open")
        if wanted not in TASK_STATUS_FILTERS:
            raise bad_request(
                [
                    {
                        "field": "status",
                        "code": "invalid",
                        "message": "status is open, closed or all",
                    }
                ]
            )
        awaiting = tasks.filter(tasks_awaiting(user))
        self.paginator.open_count = awaiting.count()
        if wanted in ("open", "pending"):
            tasks = awaiting
        else:
            tasks = tasks.filter(tasks_involving(user))
            if wanted == "closed":
                tasks = tasks.exclude(status=TaskStatus.OPEN)
        return tasks


class ApprovalDetailView(APIView):
    @extend_schema(responses={200: TaskSerializer, **ERRORS})
    def get(self, request: Request, pk: str) -> Response:
        """A task: the caller's business, or of a run of a workflow they have a role on."""
        task = _task_errors(lambda: transitions.visible_task(request.user, pk))
        return task_response(request, task.pk)


MAX_IDEMPOTENCY_KEY = 200  # TaskDecision.idempotency_key's length


def idempotency_key_header(request: Request) -> str:
    """The request's ``Idempotency-Key`` header, stripped; "" without one; 400 naming it when
    it is empty, too long or not printable."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return ""
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise bad_request(
            [
                {
                    "field": "headers.Idempotency-Key",
                    "code": "invalid",
                    "message": "Idempotency-Key must be 1 to "
                    f"{MAX_IDEMPOTENCY_KEY} printable characters",
                }
            ]
        )
    return key


class DecideView(APIView):
    @extend_schema(
        request=DecideSerializer,
        parameters=[
            idempotency_key_parameter(
                "Makes the decision safe to retry: the same key with the same body "
                "returns the task (200) without deciding again, even once it is closed; with "
                "another body, 409 idempotency_key_reused. 1 to 200 printable characters, per "
                "caller and task.",
            )
        ],
        responses={200: TaskSerializer, 409: ErrorsSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Decide an approval (``decision``: approve or reject, ``comment``) or submit a form
        (``data``, checked against its ``form_schema``). 404 when the task is not the caller's
        to see; 403 for someone who may not decide it (not an assignee; the requester under
        four eyes); 409 once it is closed or the caller has decided (unless this is a retry
        under the same ``Idempotency-Key``); 400 for a bad body."""
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        decision, data, comment = values.get("decision"), values.get("data"), values["comment"]
        key = idempotency_key_header(request)

        def decide() -> HumanTask:
            task = transitions.check_decide(
                request.user, pk, decision=decision, data=data, comment=comment, idempotency_key=key
            )
            return transitions.do_decide(
                task.pk,
                actor=request.user,
                decision=decision,
                comment=comment,
                data=data,
                idempotency_key=key,
            )

        task = _task_errors(decide)
        return task_response(request, task.pk)


def derived_key(key: str, task_id: int) -> str:
    """The Idempotency-Key of one task's decision in a bulk request: ``<key>:<task id>``, or
    its sha256 when that is longer than a decision's key may be."""
    if not key:
        return ""
    derived = f"{key}:{task_id}"
    if len(derived) > MAX_IDEMPOTENCY_KEY:
        derived = "sha256:" + hashlib.sha256(derived.encode()).hexdigest()
    return derived


class BulkDecideView(APIView):
    @extend_schema(
        request=BulkDecideSerializer,
        parameters=[
            idempotency_key_parameter(
                "Makes the whole request safe to retry: each task is decided "
                "under <key>:<task id>, so a retry answers the tasks decided the first time "
                "as it did then, and decides the others.",
            )
        ],
        responses={200: BulkDecideResultSerializer, 400: ErrorsSerializer, 403: ErrorsSerializer},
    )
    def post(self, request: Request) -> Response:
        """Approve or reject several approvals with one comment. Each is its own decision, in
        its own transaction, exactly as POST /api/approvals/{id}/decide/ would make it: one
        refused (not an assignee, closed, four eyes, a form, which needs its own data) never
        undoes another. 200 with a result per task, in the order sent; 400 for a bad body
        (a task listed twice is refused, naming it)."""
        body = BulkDecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        decision, comment = values["decision"], values["comment"]
        key = idempotency_key_header(request)
        outcomes: list[tuple[int, int, list[dict[str, Any]] | None]] = []
        for task_id in values["tasks"]:
            try:
                task = transitions.visible_task(request.user, task_id)
                if task.kind != TaskKind.APPROVAL:
                    raise transitions.InputInvalid(
                        [
                            {
                                "field": "tasks",
                                "code": "form",
                                "message": f"task {task_id} is a form: open it to fill it in",
                            }
                        ]
                    )
                one = derived_key(key, task.pk)
                transitions.check_decide(
                    request.user,
                    task.pk,
                    decision=decision,
                    data=None,
                    comment=comment,
                    idempotency_key=one,
                )
                # Its own transaction (do_decide is atomic; this view is not): a later
                # refusal cannot roll this decision back, nor this one's run the others'.
                transitions.do_decide(
                    task.pk,
                    actor=request.user,
                    decision=decision,
                    comment=comment,
                    idempotency_key=one,
                )
                outcomes.append((task_id, status.HTTP_200_OK, None))
            except REFUSALS as exc:
                error = refusal_error(exc)
                outcomes.append((task_id, error.status_code, error.payload["errors"]))
        decided_ids = [task_id for task_id, code, _ in outcomes if code == status.HTTP_200_OK]
        tasks = {t.pk: t for t in task_queryset().filter(pk__in=decided_ids)}
        context = {"user": request.user}
        results: list[dict[str, Any]] = []
        for task_id, code, errors in outcomes:
            result: dict[str, Any] = {"id": task_id, "ok": errors is None, "status": code}
            if errors is None:
                result["task"] = TaskSerializer(tasks[task_id], context=context).data
            else:
                result["errors"] = errors
            results.append(result)
        failed = len(results) - len(decided_ids)
        return Response({"decided": len(decided_ids), "failed": failed, "results": results})


class DelegateView(APIView):
    @extend_schema(
        request=DelegateSerializer,
        responses={200: TaskSerializer, 409: ErrorsSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Hand an open task to another user (``to``: a username): they become an assignee,
        and the caller no longer is by name (a group may still make them one). 403 when
        delegation is off or the caller may not act on the task; 400 for an unknown user, the
        caller, the requester under four eyes, or someone already assigned."""
        body = DelegateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data

        def delegate() -> HumanTask:
            task = transitions.check_delegate(request.user, pk, to=values["to"])
            return transitions.do_delegate(
                task.pk, actor=request.user, to=values["to"], comment=values["comment"]
            )

        task = _task_errors(delegate)
        return task_response(request, task.pk)


# --- A task's discussion: comments and attachments (engine/discussion.py) ---------------------


class TaskCommentsView(APIView):
    @extend_schema(
        operation_id="approvals_comments_list", responses={200: TaskCommentsSerializer, **ERRORS}
    )
    def get(self, request: Request, pk: str) -> Response:
        """The task's comments, oldest first (a reply's ``parent`` is its thread's first
        comment), and whether the caller may comment: anyone who may see the task reads them."""
        task = _task_errors(lambda: transitions.visible_task(request.user, pk))
        comments = (
            TaskComment.objects.filter(task=task)
            .select_related("author")
            .prefetch_related("mentions")
            .order_by("id")
        )
        can = task.is_open and discussion.may_write(task, request.user)
        return Response(
            {
                "comments": TaskCommentSerializer(comments, many=True).data,
                "can_comment": can,
            }
        )

    @extend_schema(
        request=NewCommentSerializer,
        responses={201: TaskCommentSerializer, 409: ErrorsSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Comment on an open task (``body``; ``parent`` to reply in a thread). The users that
        ``@username`` names who may see the task are emailed. 403 for who is neither an
        assignee (or decider) nor an editor of the workflow; 409 once the task is closed."""
        body = NewCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        text, parent = body.validated_data["body"], body.validated_data["parent"]

        def comment() -> TaskComment:
            task = discussion.check_comment(request.user, pk, body=text, parent=parent)
            return discussion.do_comment(
                task.pk,
                actor=request.user,
                body=text,
                parent=parent,
            )

        created = _task_errors(comment)
        return Response(TaskCommentSerializer(created).data, status=status.HTTP_201_CREATED)


# Room for a multipart body's boundaries and headers around the one file.
MULTIPART_OVERHEAD = 64 * 1024


def attachment_limit() -> int:
    return settings.FLOWDECK_ATTACHMENT_MAX_BYTES


def upload_limit() -> int:
    """The largest upload body: a file at the limit and its multipart envelope."""
    return attachment_limit() + MULTIPART_OVERHEAD


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"a file may be at most {attachment_limit()} bytes")


class TaskAttachmentsView(APIView):
    # For the /api/ body-size middleware: this view takes a file up to the attachment limit.
    max_body_bytes = staticmethod(upload_limit)

    @extend_schema(
        operation_id="approvals_attachments_list",
        responses={200: TaskAttachmentsSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: str) -> Response:
        """The task's files, oldest first, and whether the caller may attach more."""
        task = _task_errors(lambda: transitions.visible_task(request.user, pk))
        files = TaskAttachment.objects.filter(task=task).select_related("uploader").order_by("id")
        return Response(
            {
                "attachments": TaskAttachmentSerializer(files, many=True).data,
                "can_attach": task.is_open and discussion.may_write(task, request.user),
                "max_bytes": attachment_limit(),
                "allowed_types": [*attachments.ALLOWED, attachments.TEXT],
            }
        )

    @extend_schema(
        request={"multipart/form-data": NewAttachmentSerializer},
        responses={
            201: TaskAttachmentSerializer,
            409: ErrorsSerializer,
            413: ErrorsSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Attach one file (multipart ``file``) to an open task, as for comments. 413 over the
        size limit; 400 ``type_not_allowed`` for a type off the list (read from the bytes)."""
        task = _task_errors(lambda: discussion.check_attach(request.user, pk))
        # Refuse a body that cannot fit before reading it: the header is the client's word,
        # checked again on the file that arrives.
        try:
            length = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > upload_limit():
            raise _too_large()
        body = NewAttachmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > attachment_limit():
            raise _too_large()
        try:
            scanned = attachments.scan(upload.chunks())
        except attachments.NotAllowed as exc:
            raise bad_request(
                [{"field": "file", "code": "type_not_allowed", "message": str(exc)}]
            ) from None
        created = _task_errors(
            lambda: discussion.do_attach(
                task.pk, actor=request.user, upload=upload, scanned=scanned
            )
        )
        return Response(TaskAttachmentSerializer(created).data, status=status.HTTP_201_CREATED)


# The downloaded file is never a page: no script, no plugin, no style, not even in a frame.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


class TaskAttachmentView(APIView):
    @extend_schema(
        operation_id="approvals_attachment_download",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, pk: str, attachment: str) -> FileResponse:
        """Download a file of a task one may see, as an attachment, with its detected type."""
        found = _task_errors(lambda: discussion.visible_attachment(request.user, pk, attachment))
        try:
            handle = default_storage.open(found.file.name, "rb")
        except FileNotFoundError:
            raise NotFound("the file is missing from the storage") from None
        response = FileResponse(
            handle, as_attachment=True, filename=found.name, content_type=found.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = DOWNLOAD_CSP
        response["Cache-Control"] = "private, no-store"
        return response


class StatsView(APIView):
    """Dashboard figures (engine/stats.py) over the runs of the workflows the caller may see."""

    @extend_schema(
        parameters=[
            OpenApiParameter("window", OpenApiTypes.STR, description="24h, 7d, 30d, <n>h, <n>d"),
            OpenApiParameter("interval", OpenApiTypes.STR, description="auto, 1h or 1d"),
            OpenApiParameter("workflow", OpenApiTypes.INT),
        ],
        responses={200: StatsSerializer, 400: ErrorsSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            query = stats.parse_query(request.user, request.query_params)
        except stats.StatsError as exc:
            raise bad_request(
                [{"code": "invalid", "message": str(exc), "field": exc.field}]
            ) from None
        figures = stats.compute(request.user, query, timezone.now())
        return Response(StatsSerializer(figures).data)
