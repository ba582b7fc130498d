"""Import and export: JSON and YAML documents through the API and manage.py flowdeck."""

import json

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from designer import services
from designer.models import Workflow
from tests.graphs import example_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(alice) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def invoices(alice) -> Workflow:
    return services.do_create_workflow(
        actor=alice,
        name="Invoices",
        description="pay them",
        graph=example_graph("invoice_approval"),
    )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_then_import_yields_an_identical_graph(client_of, invoices, fmt):
    exported = client_of.get(f"/api/workflows/{invoices.pk}/export/?format={fmt}")
    assert exported.status_code == 200
    assert exported["Content-Disposition"] == (
        f'attachment; filename="workflow-{invoices.pk}-v1.{fmt}"'
    )
    document = yaml.safe_load(exported.content) if fmt == "yaml" else exported.json()
    assert document["kind"] == "flowdeck.workflow" and document["name"] == "Invoices"
    imported = client_of.post(
        "/api/workflows/import/",
        exported.content,
        content_type="application/yaml" if fmt == "yaml" else "application/json",
    )
    assert imported.status_code == 201, imported.content
    body = imported.json()
    assert body["id"] != invoices.pk
    assert body["name"] == "Invoices" and body["description"] == "pay them"
    assert body["version"]["graph"] == invoices.versions.get(number=1).graph


def test_import_into_a_workflow_saves_its_next_version(client_of, invoices):
    document = {
        "kind": "flowdeck.workflow",
        "version": 1,
        "name": "x",
        "graph": example_graph("parallel_fanout"),
    }
    response = client_of.post(f"/api/workflows/{invoices.pk}/import/", document, format="json")
    assert response.status_code == 200
    assert response.json()["latest_version"] == 2
    assert response.json()["name"] == "Invoices"
    assert response.json()["version"]["graph"] == example_graph("parallel_fanout")


def test_a_bare_graph_imports_with_a_name_from_the_query(client_of):
    response = client_of.post(
        "/api/workflows/import/?name=Bare", example_graph("nightly_report"), format="json"
    )
    assert response.status_code == 201 and response.json()["name"] == "Bare"
    nameless = client_of.post(
        "/api/workflows/import/", example_graph("nightly_report"), format="json"
    )
    assert nameless.status_code == 400
    assert nameless.json()["errors"][0]["code"] == "invalid_document"


def test_yaml_with_python_tags_is_refused(client_of):
    evil = b"kind: flowdeck.workflow\nname: !!python/object/apply:os.system ['true']\n"
    response = client_of.post("/api/workflows/import/", evil, content_type="application/yaml")
    assert response.status_code == 400
    assert not Workflow.objects.exists()


def test_an_invalid_imported_graph_is_400_with_its_errors(client_of):
    graph = example_graph("invoice_approval")
    graph["nodes"][1]["config"]["expression"] = "input.amount >"
    response = client_of.post(
        "/api/workflows/import/",
        {"kind": "flowdeck.workflow", "name": "x", "graph": graph},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "expression_syntax"
    assert response.json()["errors"][0]["node"] == "big"


def test_export_of_a_missing_version_is_404(client_of, invoices):
    assert client_of.get(f"/api/workflows/{invoices.pk}/export/?version=7").status_code == 404
    assert client_of.get(f"/api/workflows/{invoices.pk}/export/?format=xml").status_code == 400


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_the_command_line_round_trip_is_identical(alice, invoices, tmp_path, capsys, suffix):
    path = tmp_path / f"invoices.{suffix}"
    call_command("flowdeck", "export", str(invoices.pk), "--output", str(path))
    text = path.read_text()
    document = yaml.safe_load(text) if suffix == "yaml" else json.loads(text)
    assert document["graph"] == invoices.versions.get(number=1).graph
    call_command("flowdeck", "import", str(path), "--owner", "alice")
    copy = Workflow.objects.exclude(pk=invoices.pk).get()
    assert copy.versions.get(number=1).graph == invoices.versions.get(number=1).graph
    call_command("flowdeck", "import", str(path), "--owner", "alice", "--into", str(copy.pk))
    copy.refresh_from_db()
    assert copy.latest_version == 2


def test_the_command_line_reports_an_invalid_graph_by_node(alice, tmp_path):
    graph = example_graph("invoice_approval")
    graph["edges"].append({"id": "loop", "source": "pay", "target": "big"})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"kind": "flowdeck.workflow", "name": "bad", "graph": graph}))
    with pytest.raises(CommandError, match="cycle"):
        call_command("flowdeck", "import", str(path), "--owner", "alice")
    with pytest.raises(CommandError, match="no user"):
        call_command("flowdeck", "import", str(path), "--owner", "nobody")


def test_export_to_stdout_by_name(invoices, capsys):
    call_command("flowdeck", "export", "Invoices", "--format", "yaml")
    assert yaml.safe_load(capsys.readouterr().out)["name"] == "Invoices"


def test_the_first_start_loads_the_examples_once(capsys):
    call_command("flowdeck_bootstrap")
    assert "7 example workflows loaded" in capsys.readouterr().out
    names = set(Workflow.objects.values_list("name", flat=True))
    assert names == {
        "Invoice approval",
        "Fetch and transform",
        "Nightly report",
        "Parallel fan-out with a join",
        "Route an order",
        "Price one order line",
        "Book a trip",
    }
    call_command("flowdeck", "load-examples", "--owner", "admin")
    assert Workflow.objects.count() == 7


def test_the_admin_shows_workflows_and_versions_read_only(client, admin, invoices):
    client.force_login(admin)
    assert client.get("/admin/designer/workflow/").status_code == 200
    assert client.get(f"/admin/designer/workflow/{invoices.pk}/change/").status_code == 200
    version = invoices.versions.get(number=1)
    page = client.get(f"/admin/designer/workflowversion/{version.pk}/change/")
    assert page.status_code == 200
    assert b"trigger.manual" in page.content
    assert b'name="_save"' not in page.content  # no save button: versions are never edited
