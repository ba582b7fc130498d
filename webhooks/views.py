"""The webhook endpoint (``POST /api/hooks/<token>/``, no login: the token is the credential)
and the API for the people who look after it (the URL, its rotation).

The endpoint is an async Django view, not a DRF one (DRF has no async views): ``?wait=`` keeps
the response open until the run ends. The checks and the start run in the request's thread
through ``sync_to_async`` (short database work); the wait is ``asyncio.sleep`` between reads of
the run's status row (by primary key, every 50 ms at first, backing off to 500 ms). Nothing
blocks meanwhile: no queue worker (the run proceeds on the workers), no busy thread of the web
process, which goes on answering other requests. Polling the row was preferred to listening
to the live feed: it works the same embedded (where the feed is itself a poll of the event
table) and in scale-out, and a run's end can never be missed between two notices.
"""

import asyncio
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.models import Role, Workflow
from designer.serializers import ErrorsSerializer
from engine.models import Run
from engine.states import RUN_TERMINAL
from engine.views import check_role
from flowdeck.bodylimit import body_limit
from flowdeck.errors import ApiError, api_error
from flowdeck.params import object_id
from webhooks import services
from webhooks.models import WebhookEndpoint
from webhooks.receive import Accepted, HookRefused, receive
from webhooks.serializers import HookResponseSerializer, WebhookSerializer

FIRST_POLL_S = 0.05
MAX_POLL_S = 0.5
NO_STORE = {"Cache-Control": "no-store"}


# --- the endpoint -------------------------------------------------------------------------------


def _refusal(exc: HookRefused) -> JsonResponse:
    return JsonResponse(
        {"errors": exc.errors}, status=exc.status, headers={**NO_STORE, **exc.headers}
    )


def _run_state(run_id: int) -> dict[str, Any]:
    return Run.objects.values("status", "output", "error").get(pk=run_id)


async def _wait_for_end(run_id: int, seconds: float) -> dict[str, Any]:
    """The run's status row once it has ended, or as it is when ``seconds`` have passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = FIRST_POLL_S
    while True:
        state = await sync_to_async(_run_state)(run_id)
        remaining = deadline - loop.time()
        if state["status"] in RUN_TERMINAL or remaining <= 0:
            return state
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 1.5, MAX_POLL_S)


@body_limit(services.LARGEST_MAX_BODY_BYTES)
@csrf_exempt
async def hook(request: HttpRequest, token: str) -> JsonResponse:
    """Start a run of the token's workflow with the body as input (webhooks/receive.py)."""
    if request.method != "POST":
        response = JsonResponse(
            {"errors": [api_error("method_not_allowed", "a webhook takes POST only")]},
            status=status.HTTP_405_METHOD_NOT_ALLOWED,
        )
        response["Allow"] = "POST"
        return response
    try:
        accepted: Accepted = await sync_to_async(receive)(request, token, time.time())
    except HookRefused as exc:
        return _refusal(exc)
    body: dict[str, Any] = {
        "run_id": accepted.run_id,
        "status": accepted.status,
        "url": request.build_absolute_uri(reverse("run-detail", args=[accepted.run_id])),
        "duplicate": not accepted.created,
    }
    code = status.HTTP_202_ACCEPTED
    if accepted.wait_s > 0:
        state = await _wait_for_end(accepted.run_id, accepted.wait_s)
        body["status"] = state["status"]
        if state["status"] in RUN_TERMINAL:
            body |= {"output": state["output"], "error": state["error"]}
            code = status.HTTP_200_OK
    return JsonResponse(body, status=code, headers=NO_STORE)


class HookSchemaView(APIView):
    """The OpenAPI description of ``hook`` (drf-spectacular documents DRF views only; the
    URL's callback is the async function, which carries this class as ``cls``)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="hooks_create",
        summary="Start a run from a webhook",
        description=(
            "No login: the token in the URL admits the request. The body (a JSON object, or "
            "a form) is the run's input. When the trigger is signed: the signature header is "
            "`sha256=<hex>` (or the bare hex) of HMAC-SHA256 over `<timestamp>.<raw body>` "
            "with the credential's secret, and the timestamp header holds Unix seconds. "
            "`Idempotency-Key` makes retries start one run."
        ),
        auth=[],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "application/x-www-form-urlencoded": OpenApiTypes.OBJECT,
        },
        parameters=[
            OpenApiParameter(
                "wait",
                float,
                description="Wait up to this many seconds (capped by "
                "FLOWDECK_WEBHOOK_MAX_WAIT_S) for the run to end: 200 with its output, or 202 "
                "if it is still going.",
            ),
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, description="Dedups retries."
            ),
        ],
        responses={
            200: HookResponseSerializer,
            202: HookResponseSerializer,
            400: ErrorsSerializer,
            401: ErrorsSerializer,
            404: ErrorsSerializer,
            413: ErrorsSerializer,
            415: ErrorsSerializer,
            429: OpenApiResponse(ErrorsSerializer, description="Retry-After says when"),
            503: ErrorsSerializer,
        },
    )
    def post(self, request: Request, token: str) -> Response:  # pragma: no cover - see hook
        raise NotImplementedError


hook.cls = HookSchemaView  # type: ignore[attr-defined]
hook.initkwargs = {}  # type: ignore[attr-defined]


# --- the API for people -------------------------------------------------------------------------


def _workflow(request: Request, workflow_id: str) -> Workflow:
    """404 for who may not see it, 403 under editor: the URL is a credential."""
    try:
        workflow = Workflow.objects.get(pk=object_id(workflow_id))
    except (Workflow.DoesNotExist, ValueError):
        raise ApiError(404, [api_error("not_found", "no such workflow")]) from None
    check_role(request.user, workflow, Role.EDITOR)
    return workflow


def _no_webhook() -> ApiError:
    return ApiError(
        status.HTTP_404_NOT_FOUND,
        [
            api_error(
                "no_webhook",
                "this workflow has no webhook: save a version with a trigger.webhook step",
            )
        ],
    )


def describe(request: Request, workflow: Workflow, endpoint: WebhookEndpoint) -> dict[str, Any]:
    version = services.newest_version(workflow)
    node = None
    if version is not None:
        node = services.webhook_node(services.load_version(version.pk).graph)
    config = (node or {}).get("config") or {}
    signature = config.get("signature") or None
    token = services.token_of(endpoint)
    return {
        "url": request.build_absolute_uri(reverse("webhook-hook", args=[token])),
        "active": node is not None and not workflow.archived,
        "signing": signature is not None,
        "signature_header": (
            signature.get("header", services.DEFAULT_SIGNATURE_HEADER) if signature else None
        ),
        "timestamp_header": (
            signature.get("timestamp_header", services.DEFAULT_TIMESTAMP_HEADER)
            if signature
            else None
        ),
        "tolerance_s": (
            signature.get("tolerance_s", services.DEFAULT_TOLERANCE_S) if signature else None
        ),
        "secret_credential": signature["secret_credential"] if signature else None,
        "max_body_bytes": config.get("max_body_bytes", services.DEFAULT_MAX_BODY_BYTES),
        "version": version.number if node is not None and version is not None else None,
        "created_at": endpoint.created_at,
        "rotated_at": endpoint.rotated_at,
    }


ERRORS = {403: ErrorsSerializer, 404: ErrorsSerializer}


class WebhookView(APIView):
    """A workflow's webhook URL and settings (editor role: the URL admits requests)."""

    @extend_schema(responses={200: WebhookSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = _workflow(request, workflow_id)
        endpoint = WebhookEndpoint.objects.filter(workflow=workflow).first()
        if endpoint is None:
            raise _no_webhook()
        data = WebhookSerializer(describe(request, workflow, endpoint)).data
        return Response(data, headers=NO_STORE)


class RotateWebhookView(APIView):
    """Replace the webhook's token: the old URL stops working at once (editor role)."""

    @extend_schema(request=None, responses={200: WebhookSerializer, **ERRORS})
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = _workflow(request, workflow_id)
        has_endpoint = WebhookEndpoint.objects.filter(workflow=workflow).exists()
        version = services.newest_version(workflow)
        has_trigger = version is not None and (
            services.webhook_node(services.load_version(version.pk).graph) is not None
        )
        if not has_endpoint and not has_trigger:
            raise _no_webhook()
        endpoint = services.do_rotate_endpoint(workflow=workflow, actor=request.user)
        data = WebhookSerializer(describe(request, workflow, endpoint)).data
        return Response(data, headers=NO_STORE)
