"""The designer's API: workflows, versions, validation, sharing (CONTRACT §5)."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient

from designer import services
from designer.models import (
    ImmutableVersionError,
    Role,
    Workflow,
    WorkflowVersion,
    trigger_type_of,
)
from tests.engine_kit import build, drive, noop, start
from tests.graphs import example_graph, simple_graph
from tests.schedule_kit import scheduled_graph

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def workflow(alice) -> Workflow:
    return services.do_create_workflow(actor=alice, name="Invoices", graph=simple_graph())


def share(workflow: Workflow, role: Role, user=None, group=None) -> None:
    services.do_grant(actor=workflow.owner, workflow=workflow, role=role, user=user, group=group)


# --- create, read, save ------------------------------------------------------------------------
def test_creating_a_workflow_writes_version_1_owned_by_the_caller(alice):
    response = as_user(alice).post(
        "/api/workflows/",
        {"name": "Invoices", "description": "d", "graph": simple_graph(), "note": "first"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "alice" and body["role"] == "owner"
    assert body["latest_version"] == 1
    assert body["version"]["number"] == 1 and body["version"]["note"] == "first"
    assert body["version"]["graph"] == simple_graph()


def test_an_invalid_graph_is_400_with_every_error_and_its_node_and_field(alice):
    graph = simple_graph()
    del graph["nodes"][1]["config"]["url"]
    graph["edges"].append({"id": "e3", "source": "shape", "target": "nowhere"})
    response = as_user(alice).post("/api/workflows/", {"name": "x", "graph": graph}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {
        k: errors[[e["code"] for e in errors].index("required")][k]
        for k in ("node", "edge", "field", "code")
    } == {"node": "fetch", "edge": None, "field": "config.url", "code": "required"}
    assert any(e["code"] == "unknown_node" and e["edge"] == "e3" for e in errors)
    assert not Workflow.objects.exists()


def test_saving_writes_the_next_version_and_never_changes_the_old_one(alice, workflow):
    graph = simple_graph("http://127.0.0.1:9000/v2")
    response = as_user(alice).put(
        f"/api/workflows/{workflow.pk}/",
        {"graph": graph, "base_version": 1, "note": "new url"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["latest_version"] == 2
    assert response.json()["version"]["graph"] == graph
    old = as_user(alice).get(f"/api/workflows/{workflow.pk}/versions/1/").json()
    assert old["graph"] == simple_graph()


def test_a_stale_save_is_409_and_writes_nothing(alice, workflow):
    client = as_user(alice)
    first = client.put(
        f"/api/workflows/{workflow.pk}/",
        {"graph": simple_graph(), "base_version": 1},
        format="json",
    )
    assert first.status_code == 200
    second = client.put(
        f"/api/workflows/{workflow.pk}/",
        {"graph": simple_graph(), "base_version": 1},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["latest_version"] == 2
    assert second.json()["errors"][0]["code"] == "stale_version"
    assert WorkflowVersion.objects.filter(workflow=workflow).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_on_one_base_one_wins_and_one_is_stale(alice):
    workflow = services.do_create_workflow(actor=alice, name="Race", graph=simple_graph())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(n: int) -> None:
        try:
            barrier.wait()
            services.do_save_version(
                actor=alice,
                workflow=workflow,
                graph=simple_graph(f"http://h/{n}"),
                base_version=1,
            )
            outcomes.append("saved")
        except services.StaleVersion:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved", "stale"]
    assert list(workflow.versions.values_list("number", flat=True).order_by("number")) == [1, 2]


def test_a_version_row_cannot_be_changed_or_deleted(workflow):
    version = workflow.versions.get(number=1)
    version.note = "rewritten"
    with pytest.raises(ImmutableVersionError):
        version.save()
    with pytest.raises(ImmutableVersionError):
        version.delete()


def test_patch_renames_without_a_new_version(alice, workflow):
    response = as_user(alice).patch(
        f"/api/workflows/{workflow.pk}/", {"name": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed" and response.json()["latest_version"] == 1


def test_delete_archives_and_the_list_hides_archived_workflows(alice, workflow):
    client = as_user(alice)
    assert client.delete(f"/api/workflows/{workflow.pk}/").status_code == 204
    workflow.refresh_from_db()
    assert workflow.archived is True
    assert client.get("/api/workflows/").json()["results"] == []
    archived = client.get("/api/workflows/?archived=true").json()["results"]
    assert [w["id"] for w in archived] == [workflow.pk]
    restored = client.patch(f"/api/workflows/{workflow.pk}/", {"archived": False}, format="json")
    assert restored.json()["archived"] is False


def test_versions_are_listed_newest_first(alice, workflow):
    services.do_save_version(
        actor=alice, workflow=workflow, graph=simple_graph(), base_version=1, note="two"
    )
    body = as_user(alice).get(f"/api/workflows/{workflow.pk}/versions/").json()
    assert [(v["number"], v["note"], v["author"]) for v in body["results"]] == [
        (2, "two", "alice"),
        (1, "", "alice"),
    ]
    assert as_user(alice).get(f"/api/workflows/{workflow.pk}/versions/9/").status_code == 404


# --- listing ----------------------------------------------------------------------------------
def test_the_list_searches_filters_sorts_and_pages(alice, bob):
    for name in ["Payroll", "Invoices", "Invoice reminders"]:
        services.do_create_workflow(actor=alice, name=name, graph=simple_graph())
    services.do_create_workflow(actor=bob, name="Bob's invoices", graph=simple_graph())
    client = as_user(alice)
    names = [
        w["name"]
        for w in client.get("/api/workflows/?search=invoice&ordering=name").json()["results"]
    ]
    assert names == ["Invoice reminders", "Invoices"]  # bob's is not visible to alice
    page = client.get("/api/workflows/?ordering=name&page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert client.get("/api/workflows/?owner=bob").json()["results"] == []
    assert client.get("/api/workflows/?ordering=size").status_code == 400


def test_each_listed_workflow_carries_its_newest_run(alice):
    graph = build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])
    ran = services.do_create_workflow(actor=alice, name="Ran", graph=graph)
    never = services.do_create_workflow(actor=alice, name="Never ran", graph=graph)
    start(ran)
    drive()
    newest = start(ran)  # not driven: still going

    by_name = {w["name"]: w for w in as_user(alice).get("/api/workflows/").json()["results"]}
    assert by_name["Never ran"]["last_run"] is None
    last = by_name["Ran"]["last_run"]
    assert (last["id"], last["status"]) == (newest.pk, newest.status)
    assert last["created_at"] == newest.created_at.isoformat().replace("+00:00", "Z")
    detail = as_user(alice).get(f"/api/workflows/{ran.pk}/").json()
    assert detail["last_run"] == last
    assert as_user(alice).get(f"/api/workflows/{never.pk}/").json()["last_run"] is None


def test_the_list_takes_the_same_few_queries_for_many_rows(
    alice, charlie, django_assert_max_num_queries
):
    graph = build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])

    def add_rows(n: int) -> None:
        for i in range(n):
            mine = services.do_create_workflow(actor=charlie, name=f"Mine {i}", graph=graph)
            start(mine)
            shared = services.do_create_workflow(actor=alice, name=f"Shared {i}", graph=graph)
            share(shared, Role.EDITOR, user=charlie)
            start(shared)

    client = as_user(charlie)
    add_rows(1)
    with django_assert_max_num_queries(6) as few:
        small = client.get("/api/workflows/").json()
    add_rows(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = client.get("/api/workflows/").json()
    assert small["count"] == 2 and large["count"] == 22
    roles = {w["name"]: w["role"] for w in large["results"]}
    assert roles["Mine 3"] == "owner" and roles["Shared 3"] == "editor"
    assert all(w["last_run"]["status"] for w in large["results"])


def test_a_group_grant_and_a_user_grant_give_the_stronger_role_in_the_list(bob, workflow):
    share(workflow, Role.VIEWER, user=bob)
    share(workflow, Role.EDITOR, group=Group.objects.get(name="finance"))
    [row] = as_user(bob).get("/api/workflows/").json()["results"]
    assert row["role"] == "editor"


def test_staff_see_every_workflow(admin, workflow):
    assert [w["id"] for w in as_user(admin).get("/api/workflows/").json()["results"]] == [
        workflow.pk
    ]


# --- roles -------------------------------------------------------------------------------------
def test_charlie_without_a_role_gets_404_everywhere(charlie, workflow):
    client = as_user(charlie)
    assert client.get("/api/workflows/").json()["results"] == []
    for path in ["", "versions/", "versions/1/", "export/", "grants/"]:
        assert client.get(f"/api/workflows/{workflow.pk}/{path}").status_code == 404, path
    assert (
        client.put(
            f"/api/workflows/{workflow.pk}/",
            {"graph": simple_graph(), "base_version": 1},
            format="json",
        ).status_code
        == 404
    )


def test_a_viewer_reads_but_cannot_save(charlie, workflow):
    share(workflow, Role.VIEWER, user=charlie)
    client = as_user(charlie)
    assert client.get(f"/api/workflows/{workflow.pk}/").json()["role"] == "viewer"
    response = client.put(
        f"/api/workflows/{workflow.pk}/",
        {"graph": simple_graph(), "base_version": 1},
        format="json",
    )
    assert response.status_code == 403
    assert (
        client.patch(f"/api/workflows/{workflow.pk}/", {"name": "x"}, format="json").status_code
        == 403
    )


def test_an_editor_saves_but_cannot_share_or_archive(charlie, workflow):
    share(workflow, Role.EDITOR, user=charlie)
    client = as_user(charlie)
    saved = client.put(
        f"/api/workflows/{workflow.pk}/",
        {"graph": simple_graph(), "base_version": 1},
        format="json",
    )
    assert saved.status_code == 200
    grant = client.post(
        f"/api/workflows/{workflow.pk}/grants/",
        {"user": "charlie", "role": "owner"},
        format="json",
    )
    assert grant.status_code == 403
    assert client.delete(f"/api/workflows/{workflow.pk}/").status_code == 403


def test_a_group_grant_reaches_its_members(bob, workflow):
    share(workflow, Role.RUNNER, group=Group.objects.get(name="finance"))
    body = as_user(bob).get(f"/api/workflows/{workflow.pk}/").json()
    assert body["role"] == "runner"
    assert [w["id"] for w in as_user(bob).get("/api/workflows/").json()["results"]] == [workflow.pk]


def test_the_owner_grants_changes_and_revokes_roles(alice, charlie, workflow):
    client = as_user(alice)
    url = f"/api/workflows/{workflow.pk}/grants/"
    created = client.post(url, {"user": "charlie", "role": "viewer"}, format="json")
    assert created.status_code == 201
    again = client.post(url, {"user": "charlie", "role": "editor"}, format="json")
    assert again.json()["id"] == created.json()["id"] and again.json()["role"] == "editor"
    assert [g["role"] for g in client.get(url).json()] == ["editor"]
    bad = client.post(url, {"user": "charlie", "group": "finance", "role": "viewer"}, format="json")
    assert bad.status_code == 400
    assert client.post(url, {"user": "nobody", "role": "viewer"}, format="json").status_code == 400
    assert client.delete(f"{url}{created.json()['id']}/").status_code == 204
    assert as_user(charlie).get(f"/api/workflows/{workflow.pk}/").status_code == 404


# --- validation endpoint, limits, bad input ---------------------------------------------------
def test_validate_reports_errors_without_saving(alice):
    client = as_user(alice)
    ok = client.post("/api/workflows/validate/", {"graph": simple_graph()}, format="json")
    assert ok.status_code == 200 and ok.json() == {"valid": True, "errors": []}
    graph = simple_graph()
    graph["nodes"][1]["config"]["method"] = "FETCH"
    bad = client.post("/api/workflows/validate/", {"graph": graph}, format="json").json()
    assert bad["valid"] is False
    assert bad["errors"][0]["node"] == "fetch" and bad["errors"][0]["field"] == "config.method"
    assert not Workflow.objects.exists()


def test_a_body_over_one_mib_is_413(alice, workflow):
    graph = simple_graph()
    graph["nodes"][2]["config"]["value"] = {"blob": "x" * (1024 * 1024 + 1)}
    client = as_user(alice)
    for method, url, body in [
        ("post", "/api/workflows/", {"name": "big", "graph": graph}),
        ("put", f"/api/workflows/{workflow.pk}/", {"graph": graph, "base_version": 1}),
        ("post", "/api/workflows/validate/", {"graph": graph}),
    ]:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 413, url
        assert response.json()["errors"][0]["code"] == "too_large"


def test_a_graph_with_more_than_2000_nodes_is_400(alice):
    graph = simple_graph()
    graph["nodes"] += [
        {"id": f"n{i}", "type": "data.transform", "config": {"value": 1}} for i in range(2000)
    ]
    response = as_user(alice).post("/api/workflows/validate/", {"graph": graph}, format="json")
    assert response.json()["errors"][0]["code"] == "too_many_nodes"


def write_endpoints(workflow: Workflow) -> list[tuple[str, str]]:
    return [
        ("post", "/api/workflows/"),
        ("put", f"/api/workflows/{workflow.pk}/"),
        ("patch", f"/api/workflows/{workflow.pk}/"),
        ("post", "/api/workflows/validate/"),
        ("post", "/api/workflows/import/"),
        ("post", f"/api/workflows/{workflow.pk}/import/"),
        ("post", f"/api/workflows/{workflow.pk}/grants/"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"a string"',
        b"null",
        b'{"graph": 5, "name": [], "base_version": "x"}',
        b'{"name": {"a": 1}, "graph": {"nodes": "x"}, "role": 7, "user": 3}',
    ],
)
def test_malformed_and_mistyped_bodies_get_400_never_500(alice, workflow, body):
    client = as_user(alice)
    for method, url in write_endpoints(workflow):
        response = getattr(client, method)(url, body, content_type="application/json")
        if url.endswith("/validate/") and response.status_code == 200:
            # A well-formed request whose graph is junk: the answer is "not valid", with errors.
            assert response.json()["valid"] is False and response.json()["errors"]
            continue
        assert response.status_code == 400, (method, url, response.status_code, response.content)
        assert response.json()["errors"], (method, url)


def test_anonymous_calls_get_401_on_every_endpoint(workflow):
    client = APIClient()
    paths = [
        ("get", "/api/workflows/"),
        ("get", f"/api/workflows/{workflow.pk}/"),
        ("get", f"/api/workflows/{workflow.pk}/versions/"),
        ("get", f"/api/workflows/{workflow.pk}/versions/1/"),
        ("get", f"/api/workflows/{workflow.pk}/export/"),
        ("get", f"/api/workflows/{workflow.pk}/grants/"),
        ("delete", f"/api/workflows/{workflow.pk}/"),
        ("delete", f"/api/workflows/{workflow.pk}/grants/1/"),
        ("get", "/api/step-types/"),
        ("get", "/api/docs/"),
        *write_endpoints(workflow),
    ]
    for method, url in paths:
        assert getattr(client, method)(url).status_code == 401, url


# --- the catalog ------------------------------------------------------------------------------
def test_the_catalog_lists_all_16_step_types_with_schemas(alice):
    catalog = as_user(alice).get("/api/step-types/").json()
    assert sorted(t["type"] for t in catalog) == sorted(
        [
            "trigger.manual",
            "trigger.schedule",
            "trigger.webhook",
            "http.request",
            "data.transform",
            "logic.condition",
            "logic.switch",
            "flow.delay",
            "flow.map",
            "flow.subworkflow",
            "flow.fail",
            "flow.rollback",
            "human.approval",
            "human.form",
            "notify.email",
            "code.function",
        ]
    )
    by_type = {t["type"]: t for t in catalog}
    assert by_type["logic.condition"]["handles"] == ["true", "false", "error"]
    assert by_type["logic.switch"]["handles"] is None
    assert by_type["logic.switch"]["handles_from_config"]["list"] == "cases"
    assert by_type["http.request"]["config_schema"]["required"] == ["url"]
    # Where item and index are in scope (the designer completes them there).
    assert {t["type"]: t["item_fields"] for t in catalog if t["item_fields"]} == {
        "flow.map": ["input"]
    }
    assert [t["type"] for t in catalog if t["is_trigger"]] == [
        "trigger.manual",
        "trigger.schedule",
        "trigger.webhook",
    ]


def test_the_interactive_api_docs_are_served_without_a_cdn(alice, client):
    client.force_login(alice)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in page.content


def test_the_example_graphs_are_valid_through_the_api(alice):
    for name in ["invoice_approval", "fetch_and_transform", "nightly_report", "parallel_fanout"]:
        response = as_user(alice).post(
            "/api/workflows/validate/", {"graph": example_graph(name)}, format="json"
        )
        assert response.json() == {"valid": True, "errors": []}, name


# --- the examples, the trigger, sorting by any column ----------------------------------------
def test_adding_the_examples_gives_the_caller_those_it_lacks_once(alice, bob):
    from designer.examples import example_files

    services.do_create_workflow(actor=alice, name="Invoice approval", graph=simple_graph())
    response = as_user(alice).post("/api/workflows/examples/")

    assert response.status_code == 201, response.json()
    added = response.json()
    assert len(added) == len(example_files()) - 1  # she had one of them by name
    assert "Invoice approval" not in {w["name"] for w in added}
    assert all(w["owner"] == "alice" and w["role"] == "owner" for w in added)
    assert all(w["trigger"].startswith("trigger.") for w in added)
    # Again: nothing left to add; bob gets his own set.
    again = as_user(alice).post("/api/workflows/examples/")
    assert (again.status_code, again.json()) == (201, [])
    assert len(as_user(bob).post("/api/workflows/examples/").json()) == len(example_files())
    assert Workflow.objects.filter(owner=bob).count() == len(example_files())


def test_adding_the_examples_needs_a_login():
    response = APIClient().post("/api/workflows/examples/")
    assert response.status_code == 401
    assert not Workflow.objects.exists()


def test_the_list_and_the_detail_name_the_newest_versions_trigger(alice, workflow):
    nightly = services.do_create_workflow(
        actor=alice, name="Nightly", graph=scheduled_graph("0 9 * * *")
    )
    client = as_user(alice)
    by_name = {w["name"]: w for w in client.get("/api/workflows/").json()["results"]}
    assert by_name["Nightly"]["trigger"] == "trigger.schedule"
    assert by_name["Invoices"]["trigger"] == "trigger.manual"
    assert client.get(f"/api/workflows/{nightly.pk}/").json()["trigger"] == "trigger.schedule"

    webhook = build({"start": ("trigger.webhook", {}), "work": noop()}, ["start>work"])
    services.do_save_version(
        actor=alice, workflow=nightly, graph=webhook, base_version=1, note="by hook now"
    )
    assert client.get(f"/api/workflows/{nightly.pk}/").json()["trigger"] == "trigger.webhook"
    assert WorkflowVersion.objects.get(workflow=nightly, number=1).trigger_type == (
        "trigger.schedule"
    )


def test_the_list_sorts_by_owner_version_and_last_run(alice, bob):
    graph = build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])
    old = services.do_create_workflow(actor=alice, name="Old run", graph=graph)
    new = services.do_create_workflow(actor=bob, name="New run", graph=graph)
    never = services.do_create_workflow(actor=alice, name="Never run", graph=graph)
    services.do_save_version(actor=bob, workflow=new, graph=graph, base_version=1)
    share(new, Role.VIEWER, user=alice)
    start(old)
    start(new)

    def names(ordering: str) -> list[str]:
        body = as_user(alice).get(f"/api/workflows/?ordering={ordering}").json()
        return [w["name"] for w in body["results"]]

    assert names("-last_run") == ["New run", "Old run", "Never run"]  # never run: last
    assert names("last_run") == ["Never run", "Old run", "New run"]
    assert names("-latest_version")[0] == "New run"
    assert names("owner")[-1] == "New run"  # bob after alice
    assert never.latest_version == 1


def test_a_versions_trigger_type_is_read_from_its_graph():
    assert trigger_type_of(simple_graph()) == "trigger.manual"
    assert trigger_type_of({"nodes": [{"id": "a", "type": "http.request"}]}) == ""
    assert trigger_type_of({"nodes": "junk"}) == trigger_type_of([1, 2]) == ""
