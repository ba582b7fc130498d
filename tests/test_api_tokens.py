"""API tokens (issue 17, item 7): every user makes named tokens of their own, sees each key
once, and revokes them; only a hash is kept; keys made before (Django REST framework's, one per
user, in the clear) go on working after the migration that hashes them."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.utils import timezone

from people.models import ApiToken
from tests.helpers import api_key

pytestmark = pytest.mark.django_db


def make_token(api, name: str = "laptop"):
    response = api.post("/api/tokens/", {"name": name}, format="json")
    assert response.status_code == 201, response.data
    return response.data


def as_script(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def test_a_user_makes_a_token_sees_its_key_once_and_uses_it(api, bob):
    api.force_login(bob)

    made = make_token(api, "backup job")

    key = made["key"]
    assert key.startswith("fdt_") and len(key) > 40
    assert (made["name"], made["user"], made["prefix"]) == ("backup job", "bob", key[:8])
    listed = api.get("/api/tokens/")
    assert [t["name"] for t in listed.data] == ["backup job"]
    assert "key" not in listed.data[0] and key not in listed.content.decode()
    stored = ApiToken.objects.get(user=bob)
    assert key not in stored.key_hash and key not in str(stored.__dict__)
    me = as_script(key).get("/api/me/")
    assert me.status_code == 200 and me.json()["username"] == "bob"


def test_a_tokens_last_use_is_noted_at_most_once_a_minute(api, bob):
    key = api_key(bob)
    t0 = timezone.now()

    with time_machine.travel(t0, tick=False) as clock:
        as_script(key).get("/api/me/")
        first = ApiToken.objects.get(user=bob).last_used_at
        clock.shift(timedelta(seconds=30))
        as_script(key).get("/api/me/")
        unchanged = ApiToken.objects.get(user=bob).last_used_at
        clock.shift(timedelta(seconds=31))
        as_script(key).get("/api/me/")
        later = ApiToken.objects.get(user=bob).last_used_at

    assert first == unchanged == t0
    assert later == t0 + timedelta(seconds=61)


def test_a_user_holds_several_tokens_each_name_once(api, bob):
    api.force_login(bob)
    make_token(api, "laptop")
    make_token(api, "ci")

    again = api.post("/api/tokens/", {"name": "laptop"}, format="json")
    blank = api.post("/api/tokens/", {"name": "  "}, format="json")

    assert again.status_code == 400 and again.data["errors"][0]["code"] == "unique"
    assert blank.status_code == 400 and blank.data["errors"][0]["field"] == "name"
    assert sorted(bob.api_tokens.values_list("name", flat=True)) == ["ci", "laptop"]


def test_two_users_may_name_their_tokens_alike(api, alice, bob):
    api.force_login(alice)
    make_token(api, "laptop")
    api.force_login(bob)
    make_token(api, "laptop")

    assert ApiToken.objects.filter(name="laptop").count() == 2
    assert [t["user"] for t in api.get("/api/tokens/").data] == ["bob"]


def test_a_revoked_token_stops_working_at_once(api, bob):
    api.force_login(bob)
    made = make_token(api)
    assert as_script(made["key"]).get("/api/me/").status_code == 200

    response = api.delete(f"/api/tokens/{made['id']}/")

    assert response.status_code == 204
    assert as_script(made["key"]).get("/api/me/").status_code == 401
    assert api.get("/api/tokens/").data == []
    messages = [e.get_change_message() for e in LogEntry.objects.order_by("id")]
    assert messages == ["Created API token 'laptop'.", "Revoked API token 'laptop'."]
    assert set(LogEntry.objects.values_list("user__username", flat=True)) == {"bob"}


def test_another_users_token_does_not_exist_for_non_staff_but_staff_revoke_it(
    api, alice, bob, admin
):
    key = api_key(bob)
    token = ApiToken.objects.get(user=bob)

    api.force_login(alice)
    assert api.delete(f"/api/tokens/{token.pk}/").status_code == 404
    assert api.get("/api/tokens/?user=bob").status_code == 403
    api.force_login(admin)
    everyone = api.get("/api/tokens/?all=true")
    bobs = api.get("/api/tokens/?user=bob")
    revoked = api.delete(f"/api/tokens/{token.pk}/")

    assert [t["user"] for t in everyone.data] == ["bob"]
    assert [t["name"] for t in bobs.data] == ["tests"]
    assert revoked.status_code == 204
    assert as_script(key).get("/api/me/").status_code == 401
    assert LogEntry.objects.order_by("id").last().user == admin


def test_a_deactivated_users_token_is_refused(bob):
    key = api_key(bob)
    bob.is_active = False
    bob.save()

    response = as_script(key).get("/api/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_authenticates_no_other_scheme_and_no_garbage(bob):
    key = api_key(bob)

    for header in (f"Bearer {key}", f"Token {key}x", "Token caf\xe9", f"Token {key[:8]}"):
        response = Client(HTTP_AUTHORIZATION=header).get("/api/me/")
        assert response.status_code == 401, header


def test_keys_made_before_hashing_go_on_working_after_the_migration(bob):
    """Migration people 0002 on a database that still has DRF's token table: the key in the
    clear becomes a hash of it, and the clear key leaves the database."""
    legacy_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp NOT NULL, user_id integer NOT NULL UNIQUE)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [legacy_key, "2025-01-02 03:04:05", bob.pk],
        )
    migration = importlib.import_module("people.migrations.0002_keys_of_drf_tokens")

    # What RunPython passes, as far as move_keys looks (SQLite's real schema editor cannot
    # open inside the test's transaction).
    migration.move_keys(apps, SimpleNamespace(connection=connection))

    token = ApiToken.objects.get(user=bob)
    assert (token.name, token.prefix) == ("cli", legacy_key[:8])
    assert token.created_at.year == 2025
    assert as_script(legacy_key).get("/api/me/").json()["username"] == "bob"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0, "no key is left in the clear"
