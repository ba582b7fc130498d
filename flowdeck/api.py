from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    groups = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """The user behind the session or token."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "is_staff": user.is_staff,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }
        return Response(MeSerializer(data).data)


class ApiRootView(APIView):
    """Links to the API's resources."""

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot", {"me": serializers.CharField(), "schema": serializers.CharField()}
        )
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "me": request.build_absolute_uri(reverse("api-me")),
                "schema": request.build_absolute_uri(reverse("api-schema")),
            }
        )
