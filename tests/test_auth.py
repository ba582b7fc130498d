"""Login, logout, tokens: the browser uses the session, scripts use a token; nothing is open."""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from people.models import ApiToken
from tests.helpers import api_key

pytestmark = pytest.mark.django_db

APP_ROUTES = [
    "/",
    "/workflows",
    "/designer",
    "/runs",
    "/inbox",
    "/dashboard",
    "/credentials",
    "/runs/42",
    "/people",
    "/account",
]


@pytest.mark.parametrize("path", APP_ROUTES)
def test_the_app_needs_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", ["/api/", "/api/me/", "/api/schema/"])
def test_the_api_answers_401_without_credentials(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the login form has no CSRF token"
    return match.group(1)


def test_a_user_logs_in_through_the_form_with_csrf_and_reaches_the_app(alice):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/?next=/runs")
    assert page.status_code == 200
    response = browser.post(
        "/login/",
        {
            "username": "alice",
            "password": "alice-pass-123",
            "next": "/runs",
            "csrfmiddlewaretoken": csrf_token_of(page.content.decode()),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/runs"
    app = browser.get("/runs")
    assert app.status_code == 200
    assert b'id="root"' in app.content
    assert b'data-username="alice"' in app.content


def test_a_login_without_the_csrf_token_is_refused(alice):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/login/", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 403
    assert browser.get("/").status_code == 302


def test_a_wrong_password_shows_the_form_again(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_a_session_reaches_the_api(api, alice):
    api.force_login(alice)
    response = api.get("/api/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_token_reaches_the_api(api, bob):
    key = api_key(bob)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": bob.pk,
        "username": "bob",
        "is_staff": False,
        "groups": ["finance"],
    }


def test_a_wrong_token_gets_401(api, bob):
    api_key(bob)
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get("/api/me/").status_code == 401


def test_the_openapi_schema_is_served_to_a_logged_in_user(api, alice):
    api.force_login(alice)
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/me/" in response.json()["paths"]


def test_the_token_command_prints_a_working_key_once(api, alice, capsys):
    call_command("flowdeck_token", "alice")
    key = capsys.readouterr().out.strip()

    token = ApiToken.objects.get(user=alice)
    assert (token.name, token.prefix) == ("cli", key[:8])
    assert key not in token.key_hash, "only a hash of the key is kept"
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/me/").json()["username"] == "alice"
    # A second call cannot print the key again: it says how to get a new one.
    with pytest.raises(CommandError, match="--rotate"):
        call_command("flowdeck_token", "alice")


def test_the_token_command_rotates_names_tokens_and_creates_users(api, alice, capsys):
    call_command("flowdeck_token", "alice")
    old = capsys.readouterr().out.strip()

    call_command("flowdeck_token", "alice", "--rotate")
    new = capsys.readouterr().out.strip()
    call_command("flowdeck_token", "alice", "--name", "backup job")
    other = capsys.readouterr().out.strip()

    assert len({old, new, other}) == 3
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/me/").status_code == 401, "the rotated key stopped working"
    for key in (new, other):
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert api.get("/api/me/").status_code == 200
    assert sorted(alice.api_tokens.values_list("name", flat=True)) == ["backup job", "cli"]
    with pytest.raises(CommandError, match="--create-user"):
        call_command("flowdeck_token", "robot")
    call_command("flowdeck_token", "robot", "--create-user")
    assert ApiToken.objects.filter(user__username="robot").count() == 1


def test_bootstrap_creates_the_first_admin_once_and_stores_only_a_hash(client, capsys):
    call_command("flowdeck_bootstrap")
    out = capsys.readouterr().out
    password = re.search(r"password: (\S+)", out).group(1)
    assert client.login(username="admin", password=password)
    from django.contrib.auth.models import User

    assert password not in User.objects.get(username="admin").password
    call_command("flowdeck_bootstrap")
    again = capsys.readouterr().out
    assert "exists already" in again and password not in again
    assert User.objects.filter(is_superuser=True).count() == 1


def test_bootstrap_puts_the_admin_in_the_groups_the_examples_name_and_says_so(capsys):
    from django.contrib.auth.models import Group, User

    from designer.models import Workflow
    from people.groups import groups_named_by

    call_command("flowdeck_bootstrap")
    out = capsys.readouterr().out

    named = set().union(
        *(groups_named_by(wf.versions.get().graph) for wf in Workflow.objects.all())
    )
    assert named == {"finance", "finance-leads"}
    admin = User.objects.get(username="admin")
    assert set(admin.groups.values_list("name", flat=True)) == named
    assert "admin is in the groups finance, finance-leads" in out
    # A restart changes nothing: what an administrator undid since stays undone.
    admin.groups.remove(Group.objects.get(name="finance"))
    call_command("flowdeck_bootstrap")
    assert list(admin.groups.values_list("name", flat=True)) == ["finance-leads"]
    assert Group.objects.count() == 2


def test_the_admin_site_manages_users_and_groups(client, admin):
    client.force_login(admin)
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auth/group/").status_code == 200
