"""The designer's API (CONTRACT §5): workflows, versions, validation, sharing, import/export,
and the step-type catalog."""

from django.db import transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer import services, transfer
from designer.catalog import catalog, describe
from designer.examples import load_examples
from designer.models import ROLE_RANK, Role, StepTest, Workflow, WorkflowGrant, WorkflowVersion
from designer.parsers import YAMLParser
from designer.permissions import role_of, visible_workflows
from designer.serializers import (
    ErrorsSerializer,
    ExportDocumentSerializer,
    GrantSerializer,
    PinSerializer,
    PinsSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
    RunStepTestsSerializer,
    StaleSerializer,
    StepTestRunSerializer,
    StepTestSerializer,
    StepTypeSerializer,
    TestRunSerializer,
    TestsFailedSerializer,
    ValidateSerializer,
    ValidationResultSerializer,
    VersionSerializer,
    VersionSummarySerializer,
    WorkflowCreateSerializer,
    WorkflowDetailSerializer,
    WorkflowPatchSerializer,
    WorkflowSaveSerializer,
    WorkflowSerializer,
)
from designer.validation import MAX_GRAPH_BYTES
from engine import steptests, testruns, transitions
from engine.models import Run
from engine.preview import preview
from engine.serializers import RunDetailSerializer, run_detail_data
from flowdeck.errors import ApiError, PayloadTooLarge, api_error
from flowdeck.nul import JSONParser
from flowdeck.params import id_or_none, object_id

# Room for name, description and note beside a graph at its limit: the limit of this API's
# bodies (flowdeck/bodylimit.py).
MAX_BODY_BYTES = MAX_GRAPH_BYTES + 64 * 1024
# ?ordering= names (each also with "-") and what they sort by; a workflow never run sorts as
# the oldest last run.
ORDER_BY = {
    "name": F("name"),
    "updated_at": F("updated_at"),
    "created_at": F("created_at"),
    "owner": F("owner__username"),
    "latest_version": F("latest_version"),
    "last_run": F("last_run_pk"),
}
ORDERINGS = tuple(o for name in ORDER_BY for o in (name, f"-{name}"))


def as_api_error(exc: Exception) -> Exception:
    """The services' exceptions as API errors (400, 413, 409); others unchanged."""
    if isinstance(exc, services.GraphTooLarge):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, services.GraphInvalid):
        return ApiError(status.HTTP_400_BAD_REQUEST, exc.errors)
    if isinstance(exc, services.TestsFailed):
        errors = [
            api_error(
                "tests_failed",
                f"step test {r['name']!r} fails: {r['failures'][0]['message']}",
                node=r["node"],
            )
            for r in exc.failed
        ]
        return ApiError(status.HTTP_409_CONFLICT, errors, results=exc.results)
    if isinstance(exc, services.StepTestInvalid):
        return ApiError(status.HTTP_400_BAD_REQUEST, exc.errors)
    if isinstance(exc, services.StaleVersion):
        return ApiError(
            status.HTTP_409_CONFLICT,
            [api_error("stale_version", str(exc), field="base_version")],
            latest_version=exc.latest,
        )
    return exc


LIST_PARAMETERS = [
    OpenApiParameter("search", str, description="Part of the name, any case."),
    OpenApiParameter("owner", str, description="The owner's username."),
    OpenApiParameter("archived", str, enum=["false", "true", "all"], description="Default false."),
    OpenApiParameter("ordering", str, enum=list(ORDERINGS), description="Default -updated_at."),
]
ERRORS = {400: ErrorsSerializer, 404: ErrorsSerializer, 413: ErrorsSerializer}


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS),
    retrieve=extend_schema(responses={200: WorkflowDetailSerializer, 404: ErrorsSerializer}),
)
class WorkflowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WorkflowSerializer
    # Bodies carry graphs here: the graph's limit, not the API's default (flowdeck/bodylimit.py
    # refuses a larger body by its Content-Length, before it is read).
    max_body_bytes = MAX_BODY_BYTES
    parser_classes = [JSONParser]
    # get_queryset narrows it to what the caller may see; this one types the {id} parameter.
    queryset = Workflow.objects.none()
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Workflow]:
        """The visible workflows, each with its newest run and the caller's granted role
        annotated: the list serializes a page in a fixed number of queries, not one per row."""
        user = self.request.user
        # The run_workflow_id index answers each of these with one index step.
        newest_run = Run.objects.filter(workflow=OuterRef("pk"), test=False).order_by("-id")
        rank = Case(*(When(role=role, then=Value(n)) for role, n in ROLE_RANK.items()))
        grants = (
            WorkflowGrant.objects.filter(workflow=OuterRef("pk"))
            .filter(Q(user=user) | Q(group__in=user.groups.all()))
            .annotate(rank=rank)
            .order_by("-rank")
        )
        return (
            visible_workflows(user)
            .select_related("owner")
            .annotate(
                last_run_pk=Subquery(newest_run.values("id")[:1]),
                last_run_status=Subquery(newest_run.values("status")[:1]),
                last_run_created_at=Subquery(newest_run.values("created_at")[:1]),
                granted_role=Subquery(grants.values("role")[:1]),
                trigger_type=Subquery(
                    WorkflowVersion.objects.filter(
                        workflow=OuterRef("pk"), number=OuterRef("latest_version")
                    ).values("trigger_type")[:1]
                ),
            )
        )

    def filter_queryset(self, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        params = self.request.query_params
        archived = params.get("archived", "false")
        if archived not in ("false", "true", "all"):
            raise ApiError(
                400, [api_error("invalid_choice", "archived: false, true or all", field="archived")]
            )
        if archived != "all":
            queryset = queryset.filter(archived=archived == "true")
        if params.get("search"):
            queryset = queryset.filter(name__icontains=params["search"])
        if params.get("owner"):
            queryset = queryset.filter(owner__username=params["owner"])
        ordering = params.get("ordering", "-updated_at")
        if ordering not in ORDERINGS:
            raise ApiError(
                400,
                [
                    api_error(
                        "invalid_choice", "ordering: " + ", ".join(ORDERINGS), field="ordering"
                    )
                ],
            )
        field = ORDER_BY[ordering.removeprefix("-")]
        if ordering.startswith("-"):
            return queryset.order_by(field.desc(nulls_last=True), "-id")
        return queryset.order_by(field.asc(nulls_first=True), "-id")

    def handle_exception(self, exc: Exception) -> Response:
        # One place turns the services' exceptions into the contract's error responses.
        return super().handle_exception(as_api_error(exc))

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # export reads ?format=json|yaml itself and builds its own response; DRF would
        # otherwise take ?format= as a renderer name and answer 404 for yaml.
        if self.action == "export":
            return (JSONRenderer(), JSONRenderer.media_type)
        return super().perform_content_negotiation(request, force)

    def get_workflow(self, needed: Role) -> Workflow:
        """The workflow of the URL: 404 for who may not see it, 403 for a weaker role."""
        try:
            workflow = Workflow.objects.select_related("owner").get(pk=object_id(self.kwargs["pk"]))
        except (Workflow.DoesNotExist, ValueError):
            raise NotFound("no such workflow") from None
        role = role_of(self.request.user, workflow)
        if role is None:
            raise NotFound("no such workflow")
        if ROLE_RANK[role] < ROLE_RANK[needed]:
            raise PermissionDenied(f"this needs the {needed} role; you are {role}")
        return workflow

    def get_object(self) -> Workflow:
        return self.get_workflow(Role.VIEWER)

    def get_serializer_class(self):
        return WorkflowDetailSerializer if self.action == "retrieve" else WorkflowSerializer

    def detail_response(self, workflow: Workflow, status_code: int = 200) -> Response:
        data = WorkflowDetailSerializer(workflow, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(
        request=WorkflowCreateSerializer, responses={201: WorkflowDetailSerializer, **ERRORS}
    )
    def create(self, request: Request) -> Response:
        """Create a workflow with its graph as version 1; the caller owns it."""
        body = WorkflowCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow = services.do_create_workflow(actor=request.user, **body.validated_data)
        return self.detail_response(workflow, status.HTTP_201_CREATED)

    @extend_schema(
        request=WorkflowSaveSerializer,
        responses={
            200: WorkflowDetailSerializer,
            409: OpenApiResponse(
                PolymorphicProxySerializer(
                    "SaveConflict",
                    [StaleSerializer, TestsFailedSerializer],
                    resource_type_field_name=None,
                ),
                description="stale_version (with latest_version), or tests_failed (with the "
                "step tests' results) when the workflow requires its tests and one fails.",
            ),
            403: ErrorsSerializer,
            **ERRORS,
        },
    )
    def update(self, request: Request, pk: str) -> Response:
        """Save a new version. ``base_version`` must be the newest, or 409 (stale). A workflow
        with ``require_tests`` runs its step tests against the graph first (waiting for the
        workers) and refuses the save with 409 tests_failed while one fails."""
        workflow = self.get_workflow(Role.EDITOR)
        body = WorkflowSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.do_save_version(actor=request.user, workflow=workflow, **body.validated_data)
        return self.detail_response(workflow)

    @extend_schema(
        request=WorkflowPatchSerializer,
        responses={200: WorkflowDetailSerializer, 403: ErrorsSerializer, **ERRORS},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Rename, redescribe (editor), archive or restore (owner); no new version."""
        body = WorkflowPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        needed = Role.OWNER if "archived" in data else Role.EDITOR
        workflow = self.get_workflow(needed)
        if {"name", "description", "max_concurrent_runs", "require_tests"} & data.keys():
            services.do_update_details(
                actor=request.user,
                workflow=workflow,
                name=data.get("name"),
                description=data.get("description"),
                max_concurrent_runs=data.get("max_concurrent_runs", services.UNCHANGED),
                require_tests=data.get("require_tests"),
            )
        if "archived" in data:
            services.do_set_archived(
                actor=request.user, workflow=workflow, archived=data["archived"]
            )
        return self.detail_response(workflow)

    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    def destroy(self, request: Request, pk: str) -> Response:
        """Archive the workflow (its versions stay; runs that pinned them keep working)."""
        workflow = self.get_workflow(Role.OWNER)
        services.do_set_archived(actor=request.user, workflow=workflow, archived=True)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={201: WorkflowSerializer(many=True)})
    @action(detail=False, methods=["post"], pagination_class=None)
    def examples(self, request: Request) -> Response:
        """Add the example workflows the caller does not have yet (by name), owned by the
        caller; the answer lists those added (empty when the caller has them all)."""
        # All or none: a half-loaded set would be added again, twice, on the next try.
        with transaction.atomic():
            created = load_examples(request.user)
        data = WorkflowSerializer(created, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ValidateSerializer,
        responses={200: ValidationResultSerializer, 400: ErrorsSerializer, 413: ErrorsSerializer},
    )
    @action(detail=False, methods=["post"])
    def validate(self, request: Request) -> Response:
        """Validate a graph without saving: every violation, with node, edge and field."""
        body = ValidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        graph = body.validated_data["graph"]
        try:
            services.check_graph(graph, request.user)
        except services.GraphTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        except services.GraphInvalid as exc:
            return Response({"valid": False, "errors": exc.errors})
        return Response({"valid": True, "errors": []})

    @extend_schema(
        request=PreviewSerializer,
        responses={200: PreviewResultSerializer, 400: ErrorsSerializer, 404: ErrorsSerializer},
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: str) -> Response:
        """An expression's or a template's value with a run's data (its input, its steps'
        outputs, statuses and errors, the run): the newest run of this workflow, or the one
        named. Evaluated in the same sandbox as in a run; a failure is the answer's ``error``,
        as the step would fail with it. ``run`` is null when the workflow has no run yet."""
        workflow = self.get_workflow(Role.VIEWER)
        body = PreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        runs = Run.objects.filter(workflow=workflow)
        if "run" in body.validated_data:
            run = runs.filter(pk=body.validated_data["run"]).first()
            if run is None:
                raise NotFound(f"workflow {workflow.pk} has no run {body.validated_data['run']}")
        else:
            run = runs.filter(test=False).order_by("-pk").first()
        pins = workflow.pins or {}
        if run is None and not pins:
            return Response({"run": None, "pinned": [], "value": None, "error": None})
        summary = run and {"id": run.pk, "status": run.status, "created_at": run.created_at}
        data = body.validated_data
        # Without a run, the input a test run would get (a sample input, say), as in a test.
        graph = workflow.versions.get(number=workflow.latest_version).graph
        default = testruns.default_input(workflow, graph) if run is None else None
        value = preview(data["source"], data["mode"], run, pins, default)
        return Response({"run": summary, **value})

    @extend_schema(responses={200: PinsSerializer, 404: ErrorsSerializer})
    @action(detail=True, methods=["get"], pagination_class=None)
    def pins(self, request: Request, pk: str) -> Response:
        """The pinned step outputs, by node id: what test runs take instead of running them."""
        workflow = self.get_workflow(Role.VIEWER)
        return Response({"pins": workflow.pins or {}})

    @extend_schema(
        methods=["PUT"],
        request=PinSerializer,
        responses={200: PinSerializer, 403: ErrorsSerializer, **ERRORS},
    )
    @extend_schema(methods=["DELETE"], responses={204: None, 403: ErrorsSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["put", "delete"],
        url_path=r"pins/(?P<node>[a-z][a-z0-9_]{0,63})",
        pagination_class=None,
    )
    def pin(self, request: Request, pk: str, node: str) -> Response:
        """Pin a step's output (editor), or unpin it (204 whether it had one or not). Pins
        live with the workflow, not in its versions; test runs use them, real runs never do."""
        workflow = self.get_workflow(Role.EDITOR)
        if request.method == "DELETE":
            # 204 also when there was no pin: the step is unpinned either way.
            services.do_unpin(actor=request.user, workflow=workflow, node=node)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = PinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            pin = services.do_pin(
                actor=request.user, workflow=workflow, node=node, **body.validated_data
            )
        except services.PinRefused as exc:
            raise ApiError(
                status.HTTP_400_BAD_REQUEST,
                [api_error(exc.code, str(exc), field=exc.field, node=node)],
            ) from None
        return Response(pin)

    @extend_schema(
        request=TestRunSerializer,
        responses={
            201: RunDetailSerializer,
            403: ErrorsSerializer,
            409: ErrorsSerializer,
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"], url_path="test-runs")
    def test_runs(self, request: Request, pk: str) -> Response:
        """Test a step of the draft (editor): a run marked test of the step and what is above
        it (``mode`` step or upto), on real workers, left out of the runs list, stats and
        /metrics. 409 naming the steps that would change things outside unless
        ``confirm_effects``. Its progress is on /ws/runs/{id}/ as for any run."""
        workflow = self.get_workflow(Role.EDITOR)
        body = TestRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        from_run = None
        if "run" in data:
            from_run = Run.objects.filter(workflow=workflow, pk=data["run"]).first()
            if from_run is None:
                raise NotFound(f"workflow {workflow.pk} has no run {data['run']}")
        try:
            run = testruns.do_start_test_run(
                actor=request.user,
                workflow=workflow,
                graph=data["graph"],
                node=data["node"],
                mode=data["mode"],
                input=data.get("input"),
                data=data.get("data"),
                confirm_effects=data["confirm_effects"],
                capture_email=data["capture_email"],
                from_run=from_run,
            )
        except testruns.TestRunRefused as exc:
            raise ApiError(exc.status, exc.errors) from None
        except transitions.InputInvalid as exc:  # 413 for InputTooLarge
            raise ApiError(exc.status, exc.errors) from None
        except transitions.Conflict as exc:
            raise ApiError(status.HTTP_409_CONFLICT, [api_error("archived", str(exc))]) from None
        except (services.GraphInvalid, services.GraphTooLarge) as exc:
            raise as_api_error(exc) from None
        return Response(run_detail_data(run.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], responses={200: StepTestSerializer(many=True), 404: ErrorsSerializer}
    )
    @extend_schema(
        methods=["POST"],
        request=StepTestSerializer,
        responses={201: StepTestSerializer, 403: ErrorsSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], url_path="tests", pagination_class=None)
    def step_tests(self, request: Request, pk: str) -> Response:
        """The workflow's step tests (any role may look); an editor adds one. 400 naming the
        field (``expect.0.schema``) for an invalid JSON Schema or an expression that does not
        compile."""
        if request.method == "GET":
            workflow = self.get_workflow(Role.VIEWER)
            tests = workflow.step_tests.select_related("created_by").order_by("name")
            return Response(StepTestSerializer(tests, many=True).data)
        workflow = self.get_workflow(Role.EDITOR)
        body = StepTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        test = services.do_save_step_test(
            actor=request.user, workflow=workflow, fields=body.validated_data
        )
        return Response(StepTestSerializer(test).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: StepTestSerializer, 404: ErrorsSerializer})
    @extend_schema(
        methods=["PUT"],
        request=StepTestSerializer,
        responses={200: StepTestSerializer, 403: ErrorsSerializer, **ERRORS},
    )
    @extend_schema(methods=["DELETE"], responses={204: None, 403: ErrorsSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["get", "put", "delete"],
        url_path=r"tests/(?P<test_id>[0-9]+)",
        pagination_class=None,
    )
    def step_test(self, request: Request, pk: str, test_id: str) -> Response:
        """One step test: read it (any role), replace or delete it (editor)."""
        workflow = self.get_workflow(Role.VIEWER if request.method == "GET" else Role.EDITOR)
        test = StepTest.objects.filter(workflow=workflow, pk=id_or_none(test_id)).first()
        if test is None:
            raise NotFound(f"workflow {workflow.pk} has no step test {test_id}")
        if request.method == "GET":
            return Response(StepTestSerializer(test).data)
        if request.method == "DELETE":
            services.do_delete_step_test(actor=request.user, test=test)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = StepTestSerializer(test, data=request.data)
        body.is_valid(raise_exception=True)
        test = services.do_save_step_test(
            actor=request.user, workflow=workflow, fields=body.validated_data, test=test
        )
        return Response(StepTestSerializer(test).data)

    @extend_schema(
        request=RunStepTestsSerializer,
        responses={200: StepTestRunSerializer, 403: ErrorsSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="tests/run", pagination_class=None)
    def run_step_tests(self, request: Request, pk: str) -> Response:
        """Run the step tests (editor; all, or those ``names``) against a version (default:
        the newest) or a draft ``graph``, on the workers, and answer when they have ended:
        200 with each test's result (``passed`` false when one fails). Tests still going
        after 60 s fail as timed out."""
        workflow = self.get_workflow(Role.EDITOR)
        body = RunStepTestsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "graph" in data:
            graph = data["graph"]
        else:
            number = data.get("version", workflow.latest_version)
            version = workflow.versions.filter(number=number).first()
            if version is None:
                raise ApiError(
                    400,
                    [api_error("unknown_version", f"no version {number}", field="version")],
                )
            graph = version.graph
        # An invalid draft is the request's fault (400 with its errors), not each test's.
        services.check_graph(graph, request.user)
        tests = workflow.step_tests.order_by("name")
        if "names" in data:
            known = set(tests.filter(name__in=data["names"]).values_list("name", flat=True))
            unknown = [n for n in data["names"] if n not in known]
            if unknown:
                message = "no step test named " + ", ".join(repr(n) for n in unknown)
                raise ApiError(400, [api_error("unknown_test", message, field="names")])
            tests = tests.filter(name__in=data["names"])
        results = steptests.run_step_tests(
            actor=request.user, workflow=workflow, graph=graph, tests=list(tests)
        )
        return Response(steptests.summary(results))

    @extend_schema(responses={200: VersionSummarySerializer(many=True), 404: ErrorsSerializer})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str) -> Response:
        """The version history, newest first."""
        workflow = self.get_workflow(Role.VIEWER)
        versions = (
            workflow.versions.filter(number__isnull=False)
            .select_related("author")
            .order_by("-number")
        )
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(VersionSummarySerializer(page, many=True).data)

    @extend_schema(responses={200: VersionSerializer, 404: ErrorsSerializer})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request: Request, pk: str, number: str) -> Response:
        """One version with its graph."""
        workflow = self.get_workflow(Role.VIEWER)
        version = (
            workflow.versions.select_related("author").filter(number=id_or_none(number)).first()
        )
        if version is None:
            raise NotFound(f"workflow {workflow.pk} has no version {number}")
        return Response(VersionSerializer(version).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("version", int, description="Default: the newest."),
            OpenApiParameter("format", str, enum=list(transfer.FORMATS), description="json"),
        ],
        responses={
            (200, "application/json"): ExportDocumentSerializer,
            # The same document, written in YAML.
            (200, "application/yaml"): ExportDocumentSerializer,
            404: ErrorsSerializer,
        },
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> HttpResponse:
        """Download a version as a JSON or YAML workflow document."""
        workflow = self.get_workflow(Role.VIEWER)
        fmt = request.query_params.get("format", "json")
        if fmt not in transfer.FORMATS:
            raise ApiError(
                400, [api_error("invalid_choice", "format: json or yaml", field="format")]
            )
        number = request.query_params.get("version", str(workflow.latest_version))
        version = workflow.versions.filter(number=id_or_none(number)).first()
        if version is None:
            raise NotFound(f"workflow {workflow.pk} has no version {number}")
        text = transfer.dump(transfer.export_document(workflow, version), fmt)
        response = HttpResponse(
            text, content_type="application/yaml" if fmt == "yaml" else "application/json"
        )
        filename = f"workflow-{workflow.pk}-v{version.number}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(
        request={
            "application/json": ExportDocumentSerializer,
            "application/yaml": OpenApiTypes.STR,
        },
        parameters=[OpenApiParameter("name", str, description="Name, for a bare graph.")],
        responses={201: WorkflowDetailSerializer, **ERRORS},
    )
    @action(
        detail=False, methods=["post"], url_path="import", parser_classes=[JSONParser, YAMLParser]
    )
    def import_new(self, request: Request) -> Response:
        """Create a workflow from a JSON or YAML document (or a bare graph and ?name=)."""
        name, description, graph = self.document_parts(request)
        workflow = services.do_create_workflow(
            actor=request.user, name=name, description=description, graph=graph, note="imported"
        )
        return self.detail_response(workflow, status.HTTP_201_CREATED)

    @extend_schema(
        request={
            "application/json": ExportDocumentSerializer,
            "application/yaml": OpenApiTypes.STR,
        },
        responses={200: WorkflowDetailSerializer, 403: ErrorsSerializer, **ERRORS},
        operation_id="workflows_import_version",
    )
    @action(
        detail=True, methods=["post"], url_path="import", parser_classes=[JSONParser, YAMLParser]
    )
    def import_version(self, request: Request, pk: str) -> Response:
        """Save an imported document's graph as the workflow's next version."""
        workflow = self.get_workflow(Role.EDITOR)
        _, _, graph = self.document_parts(request, default_name=workflow.name)
        services.do_save_version(
            actor=request.user, workflow=workflow, graph=graph, base_version=None, note="imported"
        )
        return self.detail_response(workflow)

    def document_parts(self, request: Request, default_name: str | None = None):
        try:
            return transfer.parts_of(request.data, request.query_params.get("name") or default_name)
        except transfer.ImportError_ as exc:
            raise ApiError(400, [api_error("invalid_document", str(exc))]) from None

    @extend_schema(
        methods=["GET"], responses={200: GrantSerializer(many=True), 404: ErrorsSerializer}
    )
    @extend_schema(
        methods=["POST"],
        request=GrantSerializer,
        responses={201: GrantSerializer, 403: ErrorsSerializer, **ERRORS},
    )
    # Not paginated: a workflow has a handful of grants, and the answer is the whole list.
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def grants(self, request: Request, pk: str) -> Response:
        """Who has which role (any role may look); the owner gives roles."""
        if request.method == "GET":
            workflow = self.get_workflow(Role.VIEWER)
            grants = workflow.grants.select_related("user", "group").order_by("id")
            return Response(GrantSerializer(grants, many=True).data)
        workflow = self.get_workflow(Role.OWNER)
        body = GrantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = services.do_grant(actor=request.user, workflow=workflow, **body.validated_data)
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    @action(detail=True, methods=["delete"], url_path=r"grants/(?P<grant_id>[0-9]+)")
    def revoke(self, request: Request, pk: str, grant_id: str) -> Response:
        """Take a role back (owner)."""
        workflow = self.get_workflow(Role.OWNER)
        grant = WorkflowGrant.objects.filter(workflow=workflow, pk=id_or_none(grant_id)).first()
        if grant is None:
            raise NotFound("no such grant")
        services.do_revoke(actor=request.user, grant=grant)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StepTypeListView(APIView):
    """The step-type catalog: every type with its config JSON Schema and handles."""

    @extend_schema(responses=StepTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([describe(step_type) for step_type in catalog])
