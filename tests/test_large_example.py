"""The generated 1,000-step workflow (bench/large_1000.json, for the designer's large-graph
benchmark) is valid, has 1,000 steps, and is exactly what its generator writes today."""

import pytest

from bench.make_large_workflow import DEFAULT_OUT, build, render
from designer import services, transfer


def test_the_committed_file_is_what_the_generator_writes():
    # A change to the generator, the catalog's schemas or the layout shows up here first:
    # regenerate with .venv/bin/python bench/make_large_workflow.py
    assert DEFAULT_OUT.read_text() == render(build(1000))


def test_it_has_1000_steps_and_passes_the_checks_every_save_runs():
    name, _, graph = transfer.parts_of(transfer.load(DEFAULT_OUT.read_bytes(), "json"))

    assert name == "Large workflow (1,000 steps)"
    assert len(graph["nodes"]) == 1000
    services.check_graph(graph)  # raises GraphTooLarge or GraphInvalid with every error


@pytest.mark.parametrize("nodes", [4, 10, 57, 333])
def test_every_size_the_generator_writes_is_valid(nodes):
    graph = build(nodes)["graph"]

    assert len(graph["nodes"]) == nodes
    services.check_graph(graph)


@pytest.mark.django_db
def test_a_user_imports_it_through_the_api(api, alice):
    api.force_authenticate(alice)

    response = api.post(
        "/api/workflows/import/", DEFAULT_OUT.read_bytes(), content_type="application/json"
    )

    assert response.status_code == 201, response.content[:500]
    assert len(response.json()["version"]["graph"]["nodes"]) == 1000
