"""The credentials API: named secrets, shared like workflows, write-only in their secret part.

Roles: viewer sees that a credential exists and its public fields; runner may name it in the
workflows they save; editor may replace its data; owner may delete and share it. No role at all
is 404, as if it did not exist.
"""

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors import credentials as service
from connectors.kinds import CredentialKind
from connectors.models import Credential, CredentialGrant
from connectors.serializers import (
    CredentialGrantSerializer,
    CredentialKindSerializer,
    CredentialPatchSerializer,
    CredentialSerializer,
    CredentialWriteSerializer,
    describe_kinds,
)
from designer.models import ROLE_RANK, Role
from designer.serializers import ErrorsSerializer
from flowdeck.errors import ApiError
from flowdeck.nul import JSONParser
from flowdeck.params import bool_param, choice_param, id_or_none, object_id

ERRORS = {400: ErrorsSerializer, 403: ErrorsSerializer, 404: ErrorsSerializer}


def _invalid(exc: service.CredentialInvalid) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, exc.errors)


def _roles(user, credentials: list[Credential]) -> dict[int, str]:
    """The caller's role on each credential, in two queries whatever their number."""
    if user.is_staff:
        return {c.pk: Role.OWNER.value for c in credentials}
    roles: dict[int, str] = {c.pk: Role.OWNER.value for c in credentials if c.owner_id == user.pk}
    grants = CredentialGrant.objects.filter(
        Q(user=user) | Q(group__in=user.groups.all()),
        credential__in=[c.pk for c in credentials if c.pk not in roles],
    ).values_list("credential_id", "role")
    for pk, role in grants:
        if pk not in roles or ROLE_RANK[Role(role)] > ROLE_RANK[Role(roles[pk])]:
            roles[pk] = role
    return roles


def get_credential(request: Request, pk: str, needed: Role) -> Credential:
    """The credential of the URL: 404 for who has no role on it, 403 for a weaker role."""
    try:
        credential = Credential.objects.select_related("owner").get(pk=object_id(pk))
    except (Credential.DoesNotExist, ValueError):
        raise NotFound("no such credential") from None
    role = service.role_on(request.user, credential)
    if role is None:
        raise NotFound("no such credential")
    if ROLE_RANK[role] < ROLE_RANK[needed]:
        raise PermissionDenied(f"this needs the {needed} role; you are {role}")
    return credential


def _respond(request: Request, credentials: list[Credential], **kwargs) -> Response:
    context = {"roles": _roles(request.user, credentials)}
    many = kwargs.pop("many", False)
    data = CredentialSerializer(credentials if many else credentials[0], many=many, context=context)
    return Response(data.data, **kwargs)


class CredentialListView(APIView):
    """Credentials the caller has a role on; create one (the caller owns it)."""

    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=[k.value for k in CredentialKind]),
            OpenApiParameter(
                "usable", bool, description="true: only those the caller may use in workflows."
            ),
        ],
        responses=CredentialSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        needed = Role.RUNNER if bool_param(params, "usable") else Role.VIEWER
        found: QuerySet[Credential] = service.credentials_with(request.user, needed)
        kind = choice_param(params, "kind", CredentialKind.values)
        if kind:
            found = found.filter(kind=kind)
        return _respond(request, list(found.select_related("owner")[:1000]), many=True)

    @extend_schema(
        request=CredentialWriteSerializer, responses={201: CredentialSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        body = CredentialWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            credential = service.do_create_credential(actor=request.user, **body.validated_data)
        except service.CredentialInvalid as exc:
            raise _invalid(exc) from None
        return _respond(request, [credential], status=status.HTTP_201_CREATED)


class CredentialKindListView(APIView):
    """The kinds of credential and their fields (for forms)."""

    @extend_schema(responses=CredentialKindSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(describe_kinds())


class CredentialDetailView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: CredentialSerializer, 404: ErrorsSerializer})
    def get(self, request: Request, pk: str) -> Response:
        return _respond(request, [get_credential(request, pk, Role.VIEWER)])

    @extend_schema(
        request=CredentialPatchSerializer, responses={200: CredentialSerializer, **ERRORS}
    )
    def patch(self, request: Request, pk: str) -> Response:
        """Rename, redescribe or replace data (editor); omitted secret fields are kept."""
        credential = get_credential(request, pk, Role.EDITOR)
        body = CredentialPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            credential = service.do_update_credential(
                actor=request.user, credential=credential, **body.validated_data
            )
        except service.CredentialInvalid as exc:
            raise _invalid(exc) from None
        return _respond(request, [credential])

    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    def delete(self, request: Request, pk: str) -> Response:
        credential = get_credential(request, pk, Role.OWNER)
        service.do_delete_credential(actor=request.user, credential=credential)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CredentialGrantListView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: CredentialGrantSerializer(many=True), 404: ErrorsSerializer})
    def get(self, request: Request, pk: str) -> Response:
        """Who has which role (any role may look)."""
        credential = get_credential(request, pk, Role.VIEWER)
        grants = credential.grants.select_related("user", "group").order_by("id")
        return Response(CredentialGrantSerializer(grants, many=True).data)

    @extend_schema(
        request=CredentialGrantSerializer, responses={201: CredentialGrantSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: str) -> Response:
        """Give a user or a group a role (owner)."""
        credential = get_credential(request, pk, Role.OWNER)
        body = CredentialGrantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = service.do_grant_credential(
            actor=request.user, credential=credential, **body.validated_data
        )
        return Response(CredentialGrantSerializer(grant).data, status=status.HTTP_201_CREATED)


class CredentialGrantDetailView(APIView):
    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    def delete(self, request: Request, pk: str, grant_id: str) -> Response:
        """Take a role back (owner)."""
        credential = get_credential(request, pk, Role.OWNER)
        grants = CredentialGrant.objects.filter(credential=credential)
        grant = grants.filter(pk=id_or_none(grant_id)).first()
        if grant is None:
            raise NotFound("no such grant")
        service.do_revoke_credential(actor=request.user, grant=grant)
        return Response(status=status.HTTP_204_NO_CONTENT)
