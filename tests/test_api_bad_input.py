"""What the API fuzzing found (tests/test_api_fuzz.py), each pinned down as a sentence: bad
input is a 400 naming its parameter, an id nothing can have is a 404, never a 500."""

import pytest
import yaml

from tests.engine_kit import build, drive, noop, start, steps, workflow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    """alice is made for each of the many cases here: her password is hashed cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def owner_api(api, alice):
    api.force_authenticate(alice)
    return api


def simple(alice):
    return workflow(alice, build({"start": ("trigger.manual",), "a": noop()}, ["start>a"]))


@pytest.mark.parametrize(
    "path",
    [
        "/api/workflows/99999999999999999999999/",
        "/api/runs/99999999999999999999999/",
        "/api/credentials/99999999999999999999999/",
        "/api/approvals/99999999999999999999999/",
        "/api/alerts/rules/99999999999999999999999/",
        "/api/workflows/99999999999999999999999/runs/",
        "/api/workflows/99999999999999999999999/schedule/",
        "/api/workflows/99999999999999999999999/webhook/",
    ],
)
def test_an_id_past_64_bits_is_a_404_not_a_500(owner_api, path):
    response = owner_api.get(path)

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/workflows/?page_size=abc", "page_size"),
        ("/api/workflows/?page_size=0", "page_size"),
        ("/api/workflows/?page=", "page"),
        ("/api/runs/?page_size=1.5", "page_size"),
        ("/api/runs/?parent=abc", "parent"),
        ("/api/runs/?top_level=maybe", "top_level"),
        ("/api/runs/?workflow=99999999999999999999999", "workflow"),
        ("/api/approvals/?run=-419786590759276249088", "run"),
        ("/api/credentials/?usable=yes", "usable"),
        ("/api/credentials/?kind=", "kind"),
        ("/api/alerts/?workflow=1e3", "workflow"),
        ("/api/stats/?workflow=", "workflow"),
        ("/api/stats/?window=²h", "window"),
    ],
)
def test_a_query_parameter_that_is_not_what_it_takes_is_a_400_naming_it(owner_api, path, field):
    response = owner_api.get(path)

    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_page_size_past_the_largest_is_the_largest(owner_api, alice):
    for index in range(3):
        workflow(alice, build({"start": ("trigger.manual",)}, []), name=f"w{index}")

    response = owner_api.get("/api/workflows/?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_an_api_url_that_names_no_endpoint_is_a_json_404(owner_api):
    response = owner_api.get("/api/workflows/not-a-number/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found"


def test_a_page_url_that_names_nothing_is_still_a_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_event_log_refuses_a_negative_cursor(owner_api, alice):
    run = start(simple(alice), actor=alice)

    response = owner_api.get(f"/api/runs/{run.pk}/events/?after=-1")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "after"


def test_the_yaml_export_is_the_same_document_as_the_json_one(owner_api, alice):
    wf = simple(alice)

    as_json = owner_api.get(f"/api/workflows/{wf.pk}/export/?format=json").json()
    as_yaml = yaml.safe_load(owner_api.get(f"/api/workflows/{wf.pk}/export/?format=yaml").content)

    assert as_yaml == as_json


def test_the_schema_documents_the_errors_every_operation_can_answer(owner_api):
    schema = yaml.safe_load(owner_api.get("/api/schema/").content)

    runs = schema["paths"]["/api/runs/{id}/cancel/"]["post"]["responses"]
    hook = schema["paths"]["/api/hooks/{token}/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "415", "429"} <= set(runs)
    assert "401" in hook  # its own: a bad signature
    node_type = schema["components"]["schemas"]["Graph"]["properties"]["nodes"]["items"]
    assert "http.request" in node_type["properties"]["type"]["enum"]


# --- U+0000, which PostgreSQL cannot keep (a 500 on scale-out before) --------------------------


def test_a_nul_in_a_json_body_is_a_400(owner_api, alice):
    graph = build({"start": ("trigger.manual",), "a": noop(label="x\u0000y")}, ["start>a"])

    response = owner_api.post("/api/workflows/", {"name": "n", "graph": graph}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_a_nul_in_a_run_input_is_a_400(owner_api, alice):
    wf = simple(alice)

    response = owner_api.post(
        f"/api/workflows/{wf.pk}/runs/", {"input": {"k": "a\u0000b"}}, format="json"
    )

    assert response.status_code == 400


def test_a_nul_in_a_yaml_import_is_a_400(owner_api):
    document = 'kind: flowdeck.workflow\nname: "n\\0"\ngraph: {format: 1, nodes: [], edges: []}\n'

    response = owner_api.generic(
        "POST", "/api/workflows/import/", document, content_type="application/yaml"
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/api/workflows/?search=a%00b", "/api/runs/?actor=%00", "/api/runs/1/steps/a%00/logs/"],
)
def test_a_nul_in_an_api_url_is_a_400(owner_api, path):
    response = owner_api.get(path)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid"


def test_a_template_that_yields_a_nul_fails_its_step_naming_the_field(alice):
    graph = build(
        {"start": ("trigger.manual",), "shape": ("data.transform", {"value": "{{ 'a\\x00b' }}"})},
        ["start>shape"],
    )
    run = start(workflow(alice, graph), {})

    drive()

    shape = steps(run)["shape"]
    assert (shape.status, shape.error["code"]) == ("failed", "expression_error")
    assert shape.error["field"] == "config.value"
    assert "U+0000" in shape.error["message"]


def test_a_rate_of_false_is_not_a_number(owner_api, alice):
    wf = simple(alice)
    body = {"name": "r", "kind": "failure_rate", "workflow": wf.pk, "rate_pct": False}

    response = owner_api.post("/api/alerts/rules/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "rate_pct"


@pytest.mark.parametrize("value", [0, 1, 0.0, "false", "yes", None])
def test_a_flag_is_true_or_false_and_nothing_drf_would_coerce(owner_api, alice, value):
    # Found by schemathesis: {"paused": 0.0} answered 200 and paused nothing.
    from tests.schedule_kit import scheduled

    wf = scheduled(alice)
    rule = owner_api.post(
        "/api/alerts/rules/",
        {"name": "r", "kind": "run_failed", "workflow": wf.pk, "emails": ["a@example.com"]},
        format="json",
    ).json()
    writes = [
        (f"/api/workflows/{wf.pk}/schedule/", "paused"),
        (f"/api/workflows/{wf.pk}/", "archived"),
        (f"/api/alerts/rules/{rule['id']}/", "enabled"),
    ]
    for path, field in writes:
        response = owner_api.patch(path, {field: value}, format="json")
        assert response.status_code == 400, (path, response.json())
        assert response.json()["errors"][0]["field"] == field
        assert owner_api.patch(path, {field: False}, format="json").status_code == 200
