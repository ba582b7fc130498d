"""The people API (issue 17, item 7): staff manage users and groups from the app, every change
audited with its actor and no secret. Who may call what is tests/test_permission_matrix.py's;
passwords and their pages are tests/test_passwords.py's, tokens tests/test_api_tokens.py's."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.test import Client

from designer.services import do_save_version, do_set_archived
from engine import transitions
from people.models import ApiToken
from tests.engine_kit import approval_graph, build, drive, noop, start, workflow
from tests.helpers import api_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


@pytest.fixture
def staff(api, admin):
    api.force_login(admin)
    return api


def audit_of(obj) -> list[str]:
    return [
        entry.get_change_message()
        for entry in LogEntry.objects.filter(
            object_id=str(obj.pk), content_type__model=obj._meta.model_name
        ).order_by("id")
    ]


def new_user(staff, **body):
    body = {"username": "erin", "password_setup": "link", **body}
    response = staff.post("/api/users/", body, format="json")
    assert response.status_code == 201, response.data
    return response.data


# --- Users ---------------------------------------------------------------------------------------


def test_staff_creates_a_user_in_groups_with_a_one_time_password_shown_once(staff, admin, bob):
    created = new_user(
        staff,
        first_name="Erin",
        last_name="Park",
        email="erin@example.com",
        groups=["finance"],
        password_setup="one_time",
    )

    user, access = created["user"], created["access"]
    assert user["username"] == "erin" and user["groups"] == ["finance"]
    assert (user["is_active"], user["is_staff"], user["password_status"]) == (
        True,
        False,
        "must_change",
    )
    password = access["one_time_password"]
    assert len(password) >= 12 and access["set_password_link"] is None
    assert User.objects.get(username="erin").check_password(password)
    shown_again = staff.get(f"/api/users/{user['id']}/").content.decode()
    assert password not in shown_again and "one_time_password" not in shown_again
    assert audit_of(User.objects.get(username="erin")) == [
        "Created user erin (staff: no; groups: finance); one-time password issued."
    ]
    assert LogEntry.objects.get(object_id=str(user["id"])).user == admin


def test_staff_creates_a_user_with_a_set_password_link(staff):
    created = new_user(staff, password_setup="link")

    access = created["access"]
    assert access["one_time_password"] is None
    assert access["set_password_link"].startswith("http://testserver/set-password/")
    assert access["link_expires_at"]
    assert created["user"]["password_status"] == "unset"
    assert not User.objects.get(username="erin").has_usable_password()


def test_no_answer_about_users_holds_a_password_hash(staff, alice, bob):
    listing = staff.get("/api/users/").content.decode()
    one = staff.get(f"/api/users/{alice.pk}/").content.decode()

    for text in (listing, one):
        assert "pbkdf2" not in text and '"password"' not in text
        assert alice.password not in text


def test_staff_search_and_filter_users_by_name_activity_and_group(staff, alice, bob, charlie):
    User.objects.filter(pk=charlie.pk).update(is_active=False, email="chaz@example.com")

    def names(query: str) -> list[str]:
        response = staff.get(f"/api/users/{query}")
        assert response.status_code == 200, response.data
        return [u["username"] for u in response.data["results"]]

    assert names("?search=ALI") == ["alice"]
    assert names("?search=chaz@") == ["charlie"]
    assert names("?active=false") == ["charlie"]
    assert names("?active=true") == ["admin", "alice", "bob"]
    assert names("?group=finance") == ["bob"]
    assert names("?ordering=-username") == ["charlie", "bob", "alice", "admin"]
    assert staff.get("/api/users/").data["results"][2]["groups"] == ["finance"]


def test_a_bad_filter_is_a_400_naming_it(staff):
    for query, field in (("?active=yes", "active"), ("?ordering=password", "ordering")):
        response = staff.get(f"/api/users/{query}")
        assert response.status_code == 400
        assert response.data["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"username": "Alice"}, "username", "unique"),  # alice exists: one person to readers
        ({"username": "a b"}, "username", "invalid"),
        ({"groups": ["nobody-here"]}, "groups", "does_not_exist"),
        ({"is_staff": "yes"}, "is_staff", "invalid"),
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"password_setup": "typed"}, "password_setup", "invalid_choice"),
    ],
)
def test_a_bad_new_user_is_a_400_naming_the_field(staff, alice, body, field, code):
    response = staff.post(
        "/api/users/", {"username": "erin", "password_setup": "link", **body}, format="json"
    )

    assert response.status_code == 400
    [error] = response.data["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert User.objects.filter(username__in=["erin", "Alice", "a b"]).count() == 0


def test_a_user_without_a_password_setup_is_refused(staff):
    response = staff.post("/api/users/", {"username": "erin"}, format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "password_setup"


def test_staff_update_names_email_staff_and_groups_and_the_audit_names_the_fields(staff, alice):
    Group.objects.create(name="ops")

    response = staff.patch(
        f"/api/users/{alice.pk}/",
        {"first_name": "Alice", "email": "alice@example.com", "groups": ["ops"], "is_staff": True},
        format="json",
    )

    assert response.status_code == 200, response.data
    assert response.data["groups"] == ["ops"] and response.data["is_staff"] is True
    assert audit_of(alice) == ["Changed First name, Email address, Staff status and Groups."]
    # Saying what it already says changes nothing, and writes no audit line.
    staff.patch(f"/api/users/{alice.pk}/", {"first_name": "Alice"}, format="json")
    assert len(audit_of(alice)) == 1


def test_staff_may_not_take_away_their_own_staff_status(staff, admin):
    response = staff.patch(f"/api/users/{admin.pk}/", {"is_staff": False}, format="json")

    assert response.status_code == 409
    assert response.data["errors"][0]["code"] == "own_staff"
    admin.refresh_from_db()
    assert admin.is_staff


def test_deactivating_ends_the_users_sessions_and_revokes_their_tokens(staff, bob):
    browser = Client()
    browser.force_login(bob)
    key = api_key(bob)
    assert browser.get("/").status_code == 200

    response = staff.post(f"/api/users/{bob.pk}/deactivate/")

    assert response.status_code == 200 and response.data["is_active"] is False
    assert browser.get("/").status_code == 302, "the session ended"
    script = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get("/api/me/").status_code == 401
    assert not ApiToken.objects.filter(user=bob).exists()
    assert not Client().login(username="bob", password="bob-pass-123")
    assert audit_of(bob) == ["Deactivated; 1 API token(s) revoked."]


def test_a_reactivated_user_logs_in_again_but_their_old_tokens_stay_revoked(staff, bob):
    key = api_key(bob)
    staff.post(f"/api/users/{bob.pk}/deactivate/")

    response = staff.post(f"/api/users/{bob.pk}/reactivate/")

    assert response.status_code == 200 and response.data["is_active"] is True
    assert Client().login(username="bob", password="bob-pass-123")
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/").status_code == 401
    assert audit_of(bob)[-1] == "Reactivated."


def test_staff_cannot_deactivate_themselves(staff, admin):
    response = staff.post(f"/api/users/{admin.pk}/deactivate/")

    assert response.status_code == 409
    assert response.data["errors"][0]["code"] == "own_account"
    admin.refresh_from_db()
    assert admin.is_active


def test_an_unknown_user_is_404(staff):
    assert staff.get("/api/users/999999/").status_code == 404
    assert staff.post("/api/users/99999999999999999999/deactivate/").status_code == 404


def test_a_new_one_time_password_replaces_the_old_password_at_once(staff, bob):
    response = staff.post(
        f"/api/users/{bob.pk}/password/", {"password_setup": "one_time"}, format="json"
    )

    assert response.status_code == 201
    bob.refresh_from_db()
    assert not bob.check_password("bob-pass-123")
    assert bob.check_password(response.data["one_time_password"])
    assert staff.get(f"/api/users/{bob.pk}/").data["password_status"] == "must_change"
    assert audit_of(bob) == ["Issued a one-time password."]


def test_a_set_password_link_leaves_the_old_password_working_until_it_is_used(staff, bob):
    response = staff.post(
        f"/api/users/{bob.pk}/password/", {"password_setup": "link"}, format="json"
    )

    assert response.status_code == 201
    assert "/set-password/" in response.data["set_password_link"]
    assert Client().login(username="bob", password="bob-pass-123")
    assert audit_of(bob) == ["Issued a set-password link."]


def test_a_deactivated_user_gets_no_password(staff, bob):
    staff.post(f"/api/users/{bob.pk}/deactivate/")

    response = staff.post(
        f"/api/users/{bob.pk}/password/", {"password_setup": "one_time"}, format="json"
    )

    assert response.status_code == 409


def test_no_audit_line_holds_a_secret(staff, bob):
    created = new_user(staff, password_setup="one_time")
    link = staff.post(f"/api/users/{bob.pk}/password/", {"password_setup": "link"}, format="json")
    token = staff.post("/api/tokens/", {"name": "ci"}, format="json")

    secrets = [
        created["access"]["one_time_password"],
        link.data["set_password_link"].rstrip("/").rsplit("/", 1)[-1],
        token.data["key"],
        token.data["key"][4:8],
    ]
    audit = " ".join(f"{e.object_repr} {e.change_message}" for e in LogEntry.objects.all())
    assert audit, "the changes were audited"
    for secret in secrets:
        assert secret not in audit


# --- Groups --------------------------------------------------------------------------------------


def test_groups_are_listed_with_their_member_counts(staff, bob, dave):
    Group.objects.create(name="ops")

    response = staff.get("/api/groups/")

    assert response.status_code == 200
    assert [(g["name"], g["member_count"]) for g in response.data] == [("finance", 2), ("ops", 0)]


def test_staff_create_rename_and_delete_a_group_nobody_names(staff):
    created = staff.post("/api/groups/", {"name": "ops"}, format="json")
    assert created.status_code == 201, created.data
    group = Group.objects.get(name="ops")

    renamed = staff.patch(f"/api/groups/{group.pk}/", {"name": "operations"}, format="json")
    assert renamed.status_code == 200 and renamed.data["name"] == "operations"
    deleted = staff.delete(f"/api/groups/{group.pk}/")

    assert deleted.status_code == 204
    assert not Group.objects.filter(pk=group.pk).exists()
    assert audit_of(group) == [
        "Created group ops.",
        "Renamed group ops to operations.",
        "Deleted group operations.",
    ]


def test_a_group_name_taken_or_blank_is_a_400(staff, bob):
    for name, code in (("finance", "unique"), ("   ", "blank")):
        response = staff.post("/api/groups/", {"name": name}, format="json")
        assert response.status_code == 400
        assert response.data["errors"][0]["field"] == "name"
        assert response.data["errors"][0]["code"] == code


def test_a_group_a_workflow_names_cannot_be_renamed_or_deleted_and_the_409_names_it(
    staff, alice, bob
):
    finance = Group.objects.get(name="finance")
    wf = workflow(alice, approval_graph(), name="payments")

    renamed = staff.patch(f"/api/groups/{finance.pk}/", {"name": "treasury"}, format="json")
    deleted = staff.delete(f"/api/groups/{finance.pk}/")

    for response in (renamed, deleted):
        assert response.status_code == 409
        assert response.data["workflows"] == [{"id": wf.pk, "name": "payments"}]
        assert "'payments'" in response.data["errors"][0]["message"]
    assert Group.objects.filter(name="finance").exists()
    assert staff.get(f"/api/groups/{finance.pk}/").data["named_by"] == [
        {"id": wf.pk, "name": "payments"}
    ]
    # Archived, the workflow asks nobody any more: the group is free.
    do_set_archived(actor=alice, workflow=wf, archived=True)
    renamed = staff.patch(f"/api/groups/{finance.pk}/", {"name": "treasury"}, format="json")
    assert renamed.status_code == 200


def test_an_escalation_group_counts_as_named(staff, alice, bob):
    leads = Group.objects.create(name="finance-leads")
    escalate = {
        "on_timeout": "escalate",
        "due_in_s": 3600,
        "escalate_to": {"groups": ["finance-leads"]},
    }
    workflow(alice, approval_graph(**escalate), name="payments")

    response = staff.patch(f"/api/groups/{leads.pk}/", {"name": "leads"}, format="json")

    assert response.status_code == 409


def test_an_old_version_counts_only_while_an_unfinished_run_uses_it(staff, alice, bob):
    finance = Group.objects.get(name="finance")
    wf = workflow(alice, approval_graph(), name="payments")
    run = start(wf, {"amount": 5}, actor=alice)
    drive()
    nobody_asked = build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])
    do_save_version(actor=alice, workflow=wf, graph=nobody_asked, base_version=1)

    while_waiting = staff.patch(f"/api/groups/{finance.pk}/", {"name": "treasury"}, format="json")
    transitions.do_cancel_run(run.pk, actor=alice)
    after = staff.patch(f"/api/groups/{finance.pk}/", {"name": "treasury"}, format="json")

    assert while_waiting.status_code == 409
    assert after.status_code == 200


def test_a_group_with_open_tasks_cannot_be_deleted(staff, alice, bob):
    finance = Group.objects.get(name="finance")
    wf = workflow(alice, approval_graph(), name="payments")
    start(wf, {"amount": 5}, actor=alice)
    drive()
    do_set_archived(actor=alice, workflow=wf, archived=True)  # the run still waits on its task

    response = staff.delete(f"/api/groups/{finance.pk}/")

    assert response.status_code == 409
    assert response.data["open_tasks"] == 1


def test_members_are_added_by_username_and_taken_out(staff, alice, bob):
    finance = Group.objects.get(name="finance")

    unknown = staff.post(
        f"/api/groups/{finance.pk}/members/", {"usernames": ["alice", "zed"]}, format="json"
    )
    added = staff.post(
        f"/api/groups/{finance.pk}/members/", {"usernames": ["alice", "bob"]}, format="json"
    )

    assert unknown.status_code == 400
    assert unknown.data["errors"][0]["field"] == "usernames.1"
    assert added.status_code == 200
    assert [m["username"] for m in added.data["members"]] == ["alice", "bob"]
    assert added.data["member_count"] == 2
    removed = staff.delete(f"/api/groups/{finance.pk}/members/{alice.pk}/")
    assert removed.status_code == 204
    assert staff.delete(f"/api/groups/{finance.pk}/members/{alice.pk}/").status_code == 404
    assert audit_of(finance) == [
        "Added alice to group finance.",
        "Removed alice from group finance.",
    ]
