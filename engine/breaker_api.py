"""The circuit breakers API: the list operators watch (dashboard, credential page) and closing
one by hand. Staff see and close every breaker; others see the breakers of credentials they
have a role on and close those they may edit (engine/breakers.py)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.serializers import ErrorsSerializer
from engine import breakers
from engine.models import BreakerScope, BreakerState, CircuitBreaker
from flowdeck.params import choice_param, object_id

ERRORS = {400: ErrorsSerializer, 401: ErrorsSerializer, 403: ErrorsSerializer}


class BreakerSerializer(serializers.ModelSerializer):
    failures = serializers.SerializerMethodField(
        help_text="counted failures within the window (the last ones, while open)"
    )
    retry_in_s = serializers.SerializerMethodField(
        help_text="open: seconds until a probe may go; half_open: until the probe is lost"
    )
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    may_close = serializers.SerializerMethodField()

    class Meta:
        model = CircuitBreaker
        fields = [
            "id",
            "key",
            "scope",
            "target",
            "state",
            "failures",
            "failures_total",
            "opens_total",
            "thresholds",
            "opened_at",
            "retry_at",
            "retry_in_s",
            "last_failure_at",
            "last_error",
            "closed_at",
            "closed_by",
            "updated_at",
            "may_close",
        ]
        read_only_fields = fields

    def get_failures(self, row: CircuitBreaker) -> int:
        return row.failures

    def get_retry_in_s(self, row: CircuitBreaker) -> float | None:
        if row.state == BreakerState.CLOSED or row.retry_at is None:
            return None
        return max(0.0, (row.retry_at - timezone.now()).total_seconds())

    def get_may_close(self, row: CircuitBreaker) -> bool:
        return breakers.may_operate(self.context["user"], row)


class BreakerListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=BreakerState.values),
            OpenApiParameter("scope", OpenApiTypes.STR, enum=BreakerScope.values),
            OpenApiParameter("target", OpenApiTypes.STR, description="e.g. a credential's name"),
            OpenApiParameter(
                "tripped", OpenApiTypes.BOOL, description="true: open and half-open only"
            ),
        ],
        responses={200: BreakerSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The breakers the caller may see, open ones first."""
        params = request.query_params
        rows = breakers.visible_breakers(request.user)
        state = choice_param(params, "state", BreakerState.values)
        scope = choice_param(params, "scope", BreakerScope.values)
        tripped = choice_param(params, "tripped", ["true", "false"])
        if state:
            rows = rows.filter(state=state)
        if scope:
            rows = rows.filter(scope=scope)
        if "target" in params:
            rows = rows.filter(target=params["target"])
        if tripped == "true":
            rows = rows.exclude(state=BreakerState.CLOSED)
        elif tripped == "false":
            rows = rows.filter(state=BreakerState.CLOSED)
        ordered = sorted(rows[:500], key=lambda r: (r.state == BreakerState.CLOSED, r.key))
        context = {"user": request.user}
        return Response(BreakerSerializer(ordered, many=True, context=context).data)


class BreakerCloseView(APIView):
    @extend_schema(
        request=None, responses={200: BreakerSerializer, 404: ErrorsSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: str) -> Response:
        """Close a breaker by hand (its failures forgotten; audited in the admin's log): staff,
        or an editor of the breaker's credential."""
        try:
            row = breakers.visible_breakers(request.user).get(pk=object_id(pk))
        except (CircuitBreaker.DoesNotExist, ValueError):
            raise NotFound("no such breaker") from None
        if not breakers.may_operate(request.user, row):
            raise PermissionDenied("closing this breaker needs staff or the credential's editor")
        row = breakers.do_close_breaker(row.pk, actor=request.user)
        return Response(BreakerSerializer(row, context={"user": request.user}).data)
