"""The credentials API's shapes. ``data`` is write-only for secret fields: a response carries
the public fields and the names of the secret ones that are set, never their values."""

from typing import Any

from rest_framework import serializers

from connectors.credentials import NAME_PATTERN
from connectors.kinds import KINDS, CredentialKind
from connectors.models import Credential, CredentialGrant
from designer.serializers import GrantSerializer


class CredentialSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    data = serializers.SerializerMethodField(
        help_text="The public fields (a user name, a host); secret ones are never returned."
    )
    role = serializers.SerializerMethodField(help_text="The caller's role on it.")

    class Meta:
        model = Credential
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "owner",
            "role",
            "data",
            "secret_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_data(self, credential: Credential) -> dict[str, Any]:
        return dict(credential.public)

    def get_role(self, credential: Credential) -> str | None:
        roles = self.context.get("roles", {})
        return roles.get(credential.pk)


class CredentialWriteSerializer(serializers.Serializer):
    name = serializers.RegexField(NAME_PATTERN, max_length=128)
    kind = serializers.ChoiceField(choices=CredentialKind.choices)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    data = serializers.JSONField(
        help_text=(
            "The kind's fields (GET /api/credentials/kinds/). On a change, omitted secret fields "
            "keep their values."
        )
    )


class CredentialPatchSerializer(serializers.Serializer):
    name = serializers.RegexField(NAME_PATTERN, max_length=128, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    data = serializers.JSONField(required=False)


class CredentialKindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    public = serializers.JSONField(help_text="JSON Schema properties shown back.")
    secret = serializers.JSONField(help_text="JSON Schema properties never shown back.")
    required = serializers.ListField(child=serializers.CharField())


def describe_kinds() -> list[dict[str, Any]]:
    return [
        {
            "kind": kind.value,
            "title": kind.label,
            "public": KINDS[kind].public,
            "secret": KINDS[kind].secret,
            "required": list(KINDS[kind].required),
        }
        for kind in CredentialKind
    ]


class CredentialGrantSerializer(GrantSerializer):
    """A grant on a credential: the same shape and rules as a workflow's."""

    class Meta(GrantSerializer.Meta):
        model = CredentialGrant
