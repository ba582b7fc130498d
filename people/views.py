"""The people API: users and groups (staff), API tokens (every user, their own; staff anyone's).

Non-staff callers get 403 from the staff endpoints (that they exist is no secret: the API's
schema lists them); a token of somebody else's is 404 to a non-staff caller, as if it did not
exist. Changes go through people/accounts.py, groups.py and tokens.py, which audit them.
"""

from typing import Any

from django.contrib.auth.models import Group, User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.serializers import ErrorsSerializer
from flowdeck.errors import ApiError, api_error
from flowdeck.nul import JSONParser
from flowdeck.params import bool_param, choice_param, object_id
from people import absences, accounts, groups, tokens
from people.models import Absence, Account, ApiToken
from people.serializers import (
    AbsenceSerializer,
    AbsenceWriteSerializer,
    GroupDetailSerializer,
    GroupInUseSerializer,
    GroupSerializer,
    GroupWriteSerializer,
    IssuedSerializer,
    MembersAddSerializer,
    MemberSerializer,
    PasswordRequestSerializer,
    TokenCreatedSerializer,
    TokenSerializer,
    TokenWriteSerializer,
    UserCreatedSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
    WorkflowRefSerializer,
)

ERRORS = {400: ErrorsSerializer, 403: ErrorsSerializer, 404: ErrorsSerializer}
STAFF_READ = {403: ErrorsSerializer}
USER_ORDERINGS = ["username", "email", "last_login", "date_joined", "is_active", "is_staff"]


class IsStaff(BasePermission):
    message = "only staff manage people and groups"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_staff)


STAFF = [IsAuthenticated, IsStaff]


def _bad(errors: list[dict]) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, errors)


def _conflict(code: str, message: str) -> ApiError:
    return ApiError(status.HTTP_409_CONFLICT, [api_error(code, message)])


def _in_use(exc: groups.GroupInUse) -> ApiError:
    return ApiError(
        status.HTTP_409_CONFLICT,
        [api_error("group_in_use", str(exc), field="name")],
        workflows=[{"id": w.pk, "name": w.name} for w in exc.workflows],
        open_tasks=exc.open_tasks,
    )


def _issued(request: Request, issued: accounts.Issued) -> dict[str, Any]:
    link = issued.link_path and request.build_absolute_uri(issued.link_path)
    return {
        "password_setup": issued.setup,
        "one_time_password": issued.password,
        "set_password_link": link or None,
        "link_expires_at": issued.expires_at,
    }


def _flagged(users: list[User]) -> set[int]:
    """Which of these users still have a one-time password to replace (one query)."""
    return set(
        Account.objects.filter(
            user__in=[u.pk for u in users], must_change_password=True
        ).values_list("user_id", flat=True)
    )


def _user_data(users: list[User]) -> Any:
    return UserSerializer(users, many=True, context={"flagged": _flagged(users)}).data


def _users() -> QuerySet[User]:
    return User.objects.prefetch_related("groups")


def get_user(pk: Any) -> User:
    try:
        return _users().get(pk=object_id(pk))
    except (User.DoesNotExist, ValueError):
        raise NotFound("no such user") from None


def get_group(pk: Any) -> Group:
    try:
        return Group.objects.annotate(member_count=Count("user")).get(pk=object_id(pk))
    except (Group.DoesNotExist, ValueError):
        raise NotFound("no such group") from None


# --- Users -----------------------------------------------------------------------------------


class UserListView(generics.GenericAPIView):
    """Users (staff): search, filter, create."""

    permission_classes = STAFF
    parser_classes = [JSONParser]
    serializer_class = UserSerializer
    queryset = User.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="In username, names and email."),
            OpenApiParameter("active", bool, description="true: active users; false: others."),
            OpenApiParameter("group", str, description="Members of the group of this name."),
            OpenApiParameter(
                "ordering",
                str,
                enum=[*USER_ORDERINGS, *(f"-{o}" for o in USER_ORDERINGS)],
                description="A field, - first for descending; username by default.",
            ),
        ],
        responses={200: UserSerializer(many=True), **STAFF_READ},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        users = _users()
        search = params.get("search", "").strip()
        if search:
            users = users.filter(
                Q(username__icontains=search)
                | Q(first_name__icontains=search)
                | Q(last_name__icontains=search)
                | Q(email__icontains=search)
            )
        active = bool_param(params, "active")
        if active is not None:
            users = users.filter(is_active=active)
        if "group" in params:
            users = users.filter(groups__name=params["group"])
        orderings = [*USER_ORDERINGS, *(f"-{o}" for o in USER_ORDERINGS)]
        ordering = choice_param(params, "ordering", orderings) or "username"
        page = self.paginate_queryset(users.order_by(ordering, "pk"))
        return self.get_paginated_response(_user_data(page))

    @extend_schema(request=UserCreateSerializer, responses={201: UserCreatedSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        """Create a user with a one-time password or a set-password link, shown in this
        answer only."""
        body = UserCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        try:
            user, issued = accounts.do_create_user(
                actor=request.user, groups=data.pop("groups", []), **data
            )
        except accounts.AccountInvalid as exc:
            raise _bad(exc.errors) from None
        answer = {
            "user": _user_data([get_user(user.pk)])[0],
            "access": IssuedSerializer(_issued(request, issued)).data,
        }
        return Response(answer, status=status.HTTP_201_CREATED)


class UserDetailView(APIView):
    permission_classes = STAFF
    parser_classes = [JSONParser]

    @extend_schema(responses={200: UserSerializer, **STAFF_READ, 404: ErrorsSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(_user_data([get_user(pk)])[0])

    @extend_schema(
        request=UserUpdateSerializer,
        responses={200: UserSerializer, **ERRORS, 409: ErrorsSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Change names, email, staff status or groups (the whole list of group names)."""
        user = get_user(pk)
        body = UserUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            accounts.do_update_user(actor=request.user, user=user, **body.validated_data)
        except accounts.AccountConflict as exc:
            raise _conflict(exc.code, str(exc)) from None
        return Response(_user_data([get_user(pk)])[0])


class UserDeactivateView(APIView):
    permission_classes = STAFF

    @extend_schema(request=None, responses={200: UserSerializer, **ERRORS, 409: ErrorsSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """The user can no longer log in: sessions end, API tokens are revoked. Not for
        yourself (409)."""
        try:
            accounts.do_deactivate_user(actor=request.user, user=get_user(pk))
        except accounts.AccountConflict as exc:
            raise _conflict(exc.code, str(exc)) from None
        return Response(_user_data([get_user(pk)])[0])


class UserReactivateView(APIView):
    permission_classes = STAFF

    @extend_schema(request=None, responses={200: UserSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """The user may log in again (with their password; revoked tokens stay revoked)."""
        accounts.do_reactivate_user(actor=request.user, user=get_user(pk))
        return Response(_user_data([get_user(pk)])[0])


class UserPasswordView(APIView):
    permission_classes = STAFF
    parser_classes = [JSONParser]

    @extend_schema(
        request=PasswordRequestSerializer,
        responses={201: IssuedSerializer, **ERRORS, 409: ErrorsSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Issue a one-time password (the current one stops working) or a set-password link
        (the current one works until the link is used), shown in this answer only."""
        user = get_user(pk)
        body = PasswordRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            issued = accounts.do_issue_password(
                actor=request.user, user=user, setup=body.validated_data["password_setup"]
            )
        except accounts.AccountConflict as exc:
            raise _conflict(exc.code, str(exc)) from None
        return Response(
            IssuedSerializer(_issued(request, issued)).data, status=status.HTTP_201_CREATED
        )


# --- Groups ----------------------------------------------------------------------------------


def _group_detail(group: Group) -> dict[str, Any]:
    group = get_group(group.pk)
    data = dict(GroupSerializer(group).data)
    data["members"] = MemberSerializer(group.user_set.order_by("username"), many=True).data
    named_by = groups.workflows_naming(group.name)
    data["named_by"] = WorkflowRefSerializer(named_by, many=True).data
    return data


class GroupListView(APIView):
    """Groups with their member counts (staff); not paginated: a handful, named in workflows."""

    permission_classes = STAFF
    parser_classes = [JSONParser]

    @extend_schema(responses={200: GroupSerializer(many=True), **STAFF_READ})
    def get(self, request: Request) -> Response:
        found = Group.objects.annotate(member_count=Count("user")).order_by("name")
        return Response(GroupSerializer(found, many=True).data)

    @extend_schema(request=GroupWriteSerializer, responses={201: GroupDetailSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        body = GroupWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            group = groups.do_create_group(actor=request.user, name=body.validated_data["name"])
        except groups.GroupInvalid as exc:
            raise _bad(exc.errors) from None
        return Response(_group_detail(group), status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    permission_classes = STAFF
    parser_classes = [JSONParser]

    @extend_schema(responses={200: GroupDetailSerializer, **STAFF_READ, 404: ErrorsSerializer})
    def get(self, request: Request, pk: int) -> Response:
        """The group, its members, and the workflows that name it."""
        return Response(_group_detail(get_group(pk)))

    @extend_schema(
        request=GroupWriteSerializer,
        responses={200: GroupDetailSerializer, **ERRORS, 409: GroupInUseSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Rename; 409 naming the workflows while workflows in use name the group."""
        group = get_group(pk)
        body = GroupWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            groups.do_rename_group(
                actor=request.user, group=group, name=body.validated_data["name"]
            )
        except groups.GroupInvalid as exc:
            raise _bad(exc.errors) from None
        except groups.GroupInUse as exc:
            raise _in_use(exc) from None
        return Response(_group_detail(group))

    @extend_schema(
        responses={
            204: None,
            403: ErrorsSerializer,
            404: ErrorsSerializer,
            409: GroupInUseSerializer,
        }
    )
    def delete(self, request: Request, pk: int) -> Response:
        """Delete; 409 while workflows in use name it or open tasks are assigned to it.
        Grants to the group (on workflows, credentials) go with it."""
        try:
            groups.do_delete_group(actor=request.user, group=get_group(pk))
        except groups.GroupInUse as exc:
            raise _in_use(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersView(APIView):
    permission_classes = STAFF
    parser_classes = [JSONParser]

    @extend_schema(request=MembersAddSerializer, responses={200: GroupDetailSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Add users by username (those already in stay); an unknown name is a 400 naming it."""
        group = get_group(pk)
        body = MembersAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        names = list(dict.fromkeys(body.validated_data["usernames"]))
        found = {u.username: u for u in User.objects.filter(username__in=names)}
        missing = [
            api_error("not_found", f"no user named {name}", field=f"usernames.{i}")
            for i, name in enumerate(names)
            if name not in found
        ]
        if missing:
            raise _bad(missing)
        groups.do_add_members(actor=request.user, group=group, users=[found[n] for n in names])
        return Response(_group_detail(group))


class GroupMemberView(APIView):
    permission_classes = STAFF

    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    def delete(self, request: Request, pk: int, user_id: int) -> Response:
        """Take a user out of the group; 404 when they are not in it."""
        group = get_group(pk)
        user = get_user(user_id)
        if not groups.do_remove_member(actor=request.user, group=group, user=user):
            raise NotFound(f"{user.username} is not in group {group.name}")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- API tokens ------------------------------------------------------------------------------


class TokenListView(APIView):
    """The caller's API tokens; staff may list anyone's."""

    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "user", str, description="Whose tokens (a username); staff only for others."
            ),
            OpenApiParameter("all", bool, description="true: everyone's tokens (staff only)."),
        ],
        responses={200: TokenSerializer(many=True), **STAFF_READ},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        found = ApiToken.objects.select_related("user").order_by("user__username", "name")
        everyone = bool_param(params, "all")
        username = params.get("user")
        if (everyone or (username and username != request.user.get_username())) and not (
            request.user.is_staff
        ):
            raise PermissionDenied("only staff see other people's tokens")
        if everyone:
            pass
        elif username:
            found = found.filter(user__username=username)
        else:
            found = found.filter(user=request.user)
        return Response(TokenSerializer(found[:1000], many=True).data)

    @extend_schema(request=TokenWriteSerializer, responses={201: TokenCreatedSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        """A new token of the caller's; its key is in this answer only."""
        body = TokenWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            token, key = tokens.do_create_token(
                actor=request.user, user=request.user, name=body.validated_data["name"]
            )
        except tokens.TokenInvalid as exc:
            raise _bad(exc.errors) from None
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        """Revoke a token: own ones, or anyone's for staff. Its key stops working at once."""
        try:
            token = ApiToken.objects.select_related("user").get(pk=object_id(pk))
        except (ApiToken.DoesNotExist, ValueError):
            raise NotFound("no such token") from None
        if token.user_id != request.user.pk and not request.user.is_staff:
            raise NotFound("no such token")
        tokens.do_revoke_token(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Out of office ---------------------------------------------------------------------------


def _whose(request: Request, username: str | None) -> User:
    """The caller, or (staff only) the user named ``username``: 403 for others, who may
    manage their own absences only."""
    if not username or username == request.user.get_username():
        return request.user
    if not request.user.is_staff:
        raise PermissionDenied("only staff manage other people's absences")
    found = User.objects.filter(username=username).first()
    if found is None:
        raise _bad([api_error("not_found", f"no user named {username}", field="user")])
    return found


class AbsenceListView(APIView):
    """The caller's absences (out of office: tasks assigned to them by name go to a deputy);
    staff may read and plan anyone's with ``user``."""

    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "user", str, description="Whose absences (a username); staff only for others."
            ),
            OpenApiParameter("past", bool, description="true: the ended ones too."),
        ],
        responses={200: AbsenceSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Current and planned absences, soonest first (with ``past=true``, ended ones too)."""
        user = _whose(request, request.query_params.get("user"))
        now = timezone.now()
        found = Absence.objects.select_related("user", "deputy").filter(user=user)
        if not bool_param(request.query_params, "past"):
            found = found.filter(ends_at__gt=now)
        data = AbsenceSerializer(found[:200], many=True, context={"now": now}).data
        return Response(data)

    @extend_schema(request=AbsenceWriteSerializer, responses={201: AbsenceSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        """Plan an absence: from ``starts_at`` until ``ends_at``, tasks assigned to the user by
        name go to ``deputy`` instead (delegated, with the reason "absence"). 400 naming the
        field: it ends before it starts or is over, an unknown, inactive or same deputy, an
        overlap with another absence of the user, a loop of deputies."""
        body = AbsenceWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        user = _whose(request, values.pop("user", None))
        try:
            absence = absences.do_create_absence(actor=request.user, user=user, **values)
        except absences.AbsenceInvalid as exc:
            raise _bad(exc.errors) from None
        data = AbsenceSerializer(absence, context={"now": timezone.now()}).data
        return Response(data, status=status.HTTP_201_CREATED)


class AbsenceDetailView(APIView):
    @extend_schema(responses={204: None, 403: ErrorsSerializer, 404: ErrorsSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        """Cancel an absence, or end a current one now: own ones, or anyone's for staff
        (somebody else's is 404 to others). Tasks already handed to the deputy stay there."""
        try:
            absence = Absence.objects.get(pk=object_id(pk))
        except (Absence.DoesNotExist, ValueError):
            raise NotFound("no such absence") from None
        if absence.user_id != request.user.pk and not request.user.is_staff:
            raise NotFound("no such absence")
        absences.do_delete_absence(actor=request.user, absence=absence)
        return Response(status=status.HTTP_204_NO_CONTENT)
