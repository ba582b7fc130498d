"""Bodies and answers of the people API. Never a password hash: users are written out field
by field, and secrets (a one-time password, a set-password link, a token's key) appear only
in the one answer that issues them."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers

from designer.serializers import ErrorsSerializer
from flowdeck.fields import StrictBooleanField
from people import accounts
from people.models import Absence, ApiToken


class GroupNamesField(serializers.SlugRelatedField):
    """Groups by name, as workflows name them; an unknown name is a 400 naming it."""

    default_error_messages = {
        "does_not_exist": "no group named {value}",
        "invalid": "a group name is a string",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="name", queryset=Group.objects.all(), **kwargs)


class UserSerializer(serializers.ModelSerializer):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    password_status = serializers.SerializerMethodField(
        help_text="usable; must_change (a one-time password not yet replaced); "
        "unset (waiting for a set-password link to be used)"
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_superuser",
            "is_active",
            "groups",
            "last_login",
            "date_joined",
            "password_status",
        ]
        read_only_fields = fields

    def get_password_status(self, user: User) -> str:
        flagged = self.context.get("flagged", set())
        return accounts.password_status(user, user.pk in flagged)


class PasswordSetupField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=accounts.PASSWORD_SETUPS,
            help_text="one_time: the answer holds a password that must be changed at the first "
            "login; link: the answer holds a set-password link (expires after "
            "PASSWORD_RESET_TIMEOUT, works once).",
            **kwargs,
        )


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    is_staff = StrictBooleanField(required=False, default=False)
    groups = GroupNamesField(many=True, required=False)
    password_setup = PasswordSetupField()


class UserUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    is_staff = StrictBooleanField(required=False)
    groups = GroupNamesField(many=True, required=False)


class IssuedSerializer(serializers.Serializer):
    """A way in, shown once: exactly one of ``one_time_password`` and ``set_password_link``."""

    password_setup = serializers.ChoiceField(choices=accounts.PASSWORD_SETUPS)
    one_time_password = serializers.CharField(allow_null=True)
    set_password_link = serializers.URLField(allow_null=True)
    link_expires_at = serializers.DateTimeField(allow_null=True)


class UserCreatedSerializer(serializers.Serializer):
    user = UserSerializer()
    access = IssuedSerializer()


class PasswordRequestSerializer(serializers.Serializer):
    password_setup = PasswordSetupField()


class GroupSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = ["id", "name", "member_count"]


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "is_active"]
        read_only_fields = fields


class WorkflowRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GroupDetailSerializer(GroupSerializer):
    members = MemberSerializer(many=True, source="user_set", read_only=True)
    named_by = WorkflowRefSerializer(
        many=True,
        read_only=True,
        help_text="Workflows whose newest version, or a version an unfinished run uses, name "
        "this group: while any do, it cannot be renamed or deleted.",
    )

    class Meta(GroupSerializer.Meta):
        fields = [*GroupSerializer.Meta.fields, "members", "named_by"]


class GroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)


class MembersAddSerializer(serializers.Serializer):
    usernames = serializers.ListField(
        child=serializers.CharField(max_length=150), min_length=1, max_length=500
    )


class GroupInUseSerializer(ErrorsSerializer):
    workflows = WorkflowRefSerializer(many=True)
    open_tasks = serializers.IntegerField()


class TokenSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "user", "created_at", "last_used_at"]
        read_only_fields = fields


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(
        help_text="Send as Authorization: Token <key>. Shown in this answer only: Flowdeck "
        "keeps a hash of it and cannot show it again."
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]


class TokenWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class AbsenceSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    deputy = serializers.SlugRelatedField(slug_field="username", read_only=True)
    current = serializers.SerializerMethodField(help_text="Whether it lasts now.")

    class Meta:
        model = Absence
        fields = ["id", "user", "starts_at", "ends_at", "deputy", "note", "current", "created_at"]
        read_only_fields = fields

    def get_current(self, absence: Absence) -> bool:
        return absence.covers(self.context["now"])


class AbsenceWriteSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="From (ISO 8601, with a time zone).")
    ends_at = serializers.DateTimeField(help_text="Until, not included.")
    deputy = serializers.CharField(
        max_length=150, help_text="The username of who gets your tasks meanwhile."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    user = serializers.CharField(
        required=False, max_length=150, help_text="Whose absence (a username): staff only."
    )
