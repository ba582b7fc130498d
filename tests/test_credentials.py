"""Credentials: sealed at rest, write-only through the API, shared by roles, named by graphs
and opened only for workflows whose author may use them (connectors/)."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from rest_framework.test import APIClient

from connectors import crypto
from connectors.credentials import (
    CredentialUnavailable,
    do_create_credential,
    do_grant_credential,
    resolve,
    scrub,
)
from connectors.crypto import CredentialKeyError
from connectors.models import Credential
from designer import services
from designer.models import Role
from tests.graphs import simple_graph

pytestmark = pytest.mark.django_db

TOKEN = "tok-3f9a1c77e2b54d0e"
PASSWORD = "pw-b81d4e0c9f2a"


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def bearer(alice) -> Credential:
    return do_create_credential(
        actor=alice, name="payments-api", kind="http_bearer", data={"token": TOKEN}
    )


@pytest.fixture
def basic(alice) -> Credential:
    return do_create_credential(
        actor=alice,
        name="erp",
        kind="http_basic",
        data={"username": "svc", "password": PASSWORD},
        description="the ERP's service account",
    )


def graph_using(name: str) -> dict:
    graph = simple_graph()
    graph["nodes"][1]["config"]["credential"] = name
    return graph


# --- sealed at rest, never shown -----------------------------------------------------------------
def test_a_created_credential_shows_its_public_fields_and_which_secrets_are_set(alice):
    response = as_user(alice).post(
        "/api/credentials/",
        {"name": "erp", "kind": "http_basic", "data": {"username": "svc", "password": PASSWORD}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["data"] == {"username": "svc"}
    assert body["secret_fields"] == ["password"]
    assert body["owner"] == "alice" and body["role"] == "owner"
    assert PASSWORD not in response.content.decode()


def test_the_secret_is_encrypted_in_the_database(basic):
    row = Credential.objects.values("public", "sealed").get(pk=basic.pk)
    assert PASSWORD not in str(row)
    assert resolve("erp", user_id=basic.owner_id, kinds=["http_basic"]).secret == {
        "password": PASSWORD
    }


def test_no_read_of_the_api_returns_a_secret(alice, bearer, basic):
    client = as_user(alice)
    for path in (
        "/api/credentials/",
        f"/api/credentials/{bearer.pk}/",
        f"/api/credentials/{basic.pk}/",
        f"/api/credentials/{basic.pk}/grants/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert TOKEN not in response.content.decode()
        assert PASSWORD not in response.content.decode()


def test_a_change_without_the_secret_keeps_it(alice, basic):
    response = as_user(alice).patch(
        f"/api/credentials/{basic.pk}/", {"data": {"username": "svc2"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    opened = resolve("erp", user_id=alice.pk, kinds=["http_basic"])
    assert opened.public == {"username": "svc2"} and opened.secret == {"password": PASSWORD}


def test_a_change_with_the_secret_replaces_it(alice, basic):
    as_user(alice).patch(
        f"/api/credentials/{basic.pk}/", {"data": {"password": "new-secret-1"}}, format="json"
    )
    assert resolve("erp", user_id=alice.pk, kinds=["http_basic"]).secret == {
        "password": "new-secret-1"
    }


def test_bad_data_is_400_naming_the_field_without_echoing_the_secret(alice):
    response = as_user(alice).post(
        "/api/credentials/",
        {"name": "h", "kind": "http_header", "data": {"header": "bad header", "value": ""}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} == {"data.header", "data.value"}
    missing = as_user(alice).post(
        "/api/credentials/", {"name": "b", "kind": "http_basic", "data": {}}, format="json"
    )
    assert {(e["field"], e["code"]) for e in missing.json()["errors"]} == {
        ("data.username", "required"),
        ("data.password", "required"),
    }


def test_a_second_credential_with_one_name_is_400(alice, bearer):
    response = as_user(alice).post(
        "/api/credentials/",
        {"name": "payments-api", "kind": "secret", "data": {"value": "x" * 10}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


def test_the_kinds_list_their_fields(alice):
    kinds = {k["kind"]: k for k in as_user(alice).get("/api/credentials/kinds/").json()}
    assert set(kinds["smtp"]["public"]) >= {"host", "port", "username"}
    assert set(kinds["smtp"]["secret"]) == {"password"}
    assert kinds["http_bearer"]["required"] == ["token"]


# --- who may do what -----------------------------------------------------------------------------
def test_anonymous_callers_get_401(api, bearer):
    assert api.get("/api/credentials/").status_code == 401
    assert api.get(f"/api/credentials/{bearer.pk}/").status_code == 401
    assert api.post("/api/credentials/", {}, format="json").status_code == 401


def test_someone_without_a_role_neither_sees_nor_touches_it(charlie, bearer):
    client = as_user(charlie)
    assert client.get("/api/credentials/").json() == []
    assert client.get(f"/api/credentials/{bearer.pk}/").status_code == 404
    assert client.patch(f"/api/credentials/{bearer.pk}/", {}, format="json").status_code == 404
    assert client.delete(f"/api/credentials/{bearer.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("role", "read", "change", "delete", "share"),
    [
        (Role.VIEWER, 200, 403, 403, 403),
        (Role.RUNNER, 200, 403, 403, 403),
        (Role.EDITOR, 200, 200, 403, 403),
        (Role.OWNER, 200, 200, 204, 201),
    ],
)
def test_roles_decide_what_a_grantee_may_do(bob, dave, bearer, role, read, change, delete, share):
    do_grant_credential(actor=bearer.owner, credential=bearer, role=role, user=bob)
    client = as_user(bob)
    assert client.get(f"/api/credentials/{bearer.pk}/").status_code == read
    assert client.get(f"/api/credentials/{bearer.pk}/").json()["role"] == role
    patch = client.patch(f"/api/credentials/{bearer.pk}/", {"description": "d"}, format="json")
    assert patch.status_code == change
    grant = client.post(
        f"/api/credentials/{bearer.pk}/grants/", {"user": "dave", "role": "viewer"}, format="json"
    )
    assert grant.status_code == share
    assert client.delete(f"/api/credentials/{bearer.pk}/").status_code == delete


def test_a_group_grant_reaches_its_members(bob, bearer):
    from django.contrib.auth.models import Group

    do_grant_credential(
        actor=bearer.owner,
        credential=bearer,
        role=Role.RUNNER,
        group=Group.objects.get(name="finance"),
    )
    listed = as_user(bob).get("/api/credentials/?usable=true").json()
    assert [c["name"] for c in listed] == ["payments-api"]


def test_the_usable_filter_leaves_out_credentials_only_viewed(bob, bearer):
    do_grant_credential(actor=bearer.owner, credential=bearer, role=Role.VIEWER, user=bob)
    assert as_user(bob).get("/api/credentials/").json()[0]["name"] == "payments-api"
    assert as_user(bob).get("/api/credentials/?usable=true").json() == []


# --- named by graphs -----------------------------------------------------------------------------
def test_a_graph_may_name_a_credential_its_author_may_use(alice, bearer):
    response = as_user(alice).post(
        "/api/workflows/", {"name": "w", "graph": graph_using("payments-api")}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("name", ["no-such-thing", "payments-api"])
def test_an_unknown_or_foreign_credential_is_400_at_its_node_and_field(charlie, bearer, name):
    response = as_user(charlie).post(
        "/api/workflows/", {"name": "w", "graph": graph_using(name)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "node": "fetch",
            "edge": None,
            "field": "config.credential",
            "code": "unknown_credential",
            "message": f"no credential named {name} that you may use",
        }
    ]


def test_a_credential_of_the_wrong_kind_is_400(alice):
    do_create_credential(actor=alice, name="mail", kind="smtp", data={"host": "h", "port": 25})
    response = as_user(alice).post(
        "/api/workflows/", {"name": "w", "graph": graph_using("mail")}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "wrong_credential_kind"


def test_validate_checks_credentials_for_the_caller(charlie, bearer):
    response = as_user(charlie).post(
        "/api/workflows/validate/", {"graph": graph_using("payments-api")}, format="json"
    )
    assert response.json()["valid"] is False
    assert response.json()["errors"][0]["code"] == "unknown_credential"


def test_a_runner_grant_lets_bob_name_it_and_a_viewer_grant_does_not(bob, bearer):
    do_grant_credential(actor=bearer.owner, credential=bearer, role=Role.VIEWER, user=bob)
    with pytest.raises(services.GraphInvalid):
        services.do_create_workflow(actor=bob, name="w", graph=graph_using("payments-api"))
    do_grant_credential(actor=bearer.owner, credential=bearer, role=Role.RUNNER, user=bob)
    services.do_create_workflow(actor=bob, name="w", graph=graph_using("payments-api"))


# --- opened at run time --------------------------------------------------------------------------
def test_resolve_refuses_a_user_whose_grant_was_revoked(bob, bearer):
    grant = do_grant_credential(actor=bearer.owner, credential=bearer, role=Role.RUNNER, user=bob)
    assert resolve("payments-api", user_id=bob.pk, kinds=["http_bearer"]).secret["token"] == TOKEN
    grant.delete()
    with pytest.raises(CredentialUnavailable):
        resolve("payments-api", user_id=bob.pk, kinds=["http_bearer"])


def test_resolve_gives_one_answer_for_missing_wrong_kind_and_forbidden(charlie, bearer):
    messages = set()
    for name, user, kinds in [
        ("nope", bearer.owner_id, ["http_bearer"]),
        ("payments-api", bearer.owner_id, ["smtp"]),
        ("payments-api", charlie.pk, ["http_bearer"]),
    ]:
        with pytest.raises(CredentialUnavailable) as caught:
            resolve(name, user_id=user, kinds=kinds)
        messages.add(str(caught.value).replace(name, "N").replace(kinds[0], "K"))
    assert len(messages) == 1


def test_an_opened_credential_hides_its_secret_in_repr(bearer):
    opened = resolve("payments-api", user_id=bearer.owner_id, kinds=["http_bearer"])
    assert TOKEN not in repr(opened)


def test_scrub_masks_secrets_anywhere_in_json():
    value = {"a": f"Bearer {TOKEN}", "b": [TOKEN, 3, None], TOKEN: {"c": "ok"}, "short": "ab"}
    assert scrub(value, [TOKEN, "ab"]) == {
        "a": "Bearer ***",
        "b": ["***", 3, None],
        "***": {"c": "ok"},
        "short": "ab",
    }


# --- keys ----------------------------------------------------------------------------------------
@pytest.fixture
def key_setting(settings):
    def use(value: str) -> None:
        settings.FLOWDECK_CREDENTIALS_KEY = value
        crypto.reset_keys()

    yield use
    crypto.reset_keys()


def test_rotation_reseals_with_the_new_key_and_the_old_key_can_go(alice, key_setting):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    key_setting(old)
    do_create_credential(actor=alice, name="s", kind="secret", data={"value": "v-123456"})
    key_setting(f"{new},{old}")
    call_command("flowdeck_credentials", "rotate")
    key_setting(new)
    assert resolve("s", user_id=alice.pk, kinds=["secret"]).secret == {"value": "v-123456"}


def test_a_wrong_key_is_a_clear_error(alice, key_setting):
    key_setting(Fernet.generate_key().decode())
    do_create_credential(actor=alice, name="s", kind="secret", data={"value": "v-123456"})
    key_setting(Fernet.generate_key().decode())
    with pytest.raises(CredentialKeyError, match="FLOWDECK_CREDENTIALS_KEY"):
        resolve("s", user_id=alice.pk, kinds=["secret"])


def test_a_malformed_key_names_the_variable_not_the_value(key_setting):
    from django.core.exceptions import ImproperlyConfigured

    key_setting("not-a-fernet-key-42")
    with pytest.raises(ImproperlyConfigured) as caught:
        crypto.seal({})
    assert "FLOWDECK_CREDENTIALS_KEY" in str(caught.value)
    assert "not-a-fernet-key-42" not in str(caught.value)
