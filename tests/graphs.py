"""Graphs for tests."""

import copy
import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "designer" / "examples"


def simple_graph(url: str = "http://127.0.0.1:9000/x") -> dict:
    """start -> fetch -> shape: valid, small."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "trigger.manual", "config": {}},
            {"id": "fetch", "type": "http.request", "config": {"url": url}},
            {
                "id": "shape",
                "type": "data.transform",
                "config": {"value": {"status": "{{ steps.fetch.output.status }}"}},
            },
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "fetch"},
            {"id": "e2", "source": "fetch", "target": "shape"},
        ],
    }


def example_graph(name: str) -> dict:
    return copy.deepcopy(json.loads((EXAMPLES / f"{name}.json").read_text())["graph"])
