"""Import and export of workflows as JSON or YAML documents.

An export is ``{"kind": "flowdeck.workflow", "version": 1, "name", "description", "graph"}``.
An import takes such a document, or a bare graph (then the name is given separately).
YAML is read with ``safe_load`` only: no tags, no objects.
"""

import json
from typing import Any

import yaml

from designer.models import Workflow, WorkflowVersion

KIND = "flowdeck.workflow"
DOCUMENT_VERSION = 1
FORMATS = ("json", "yaml")


class ImportError_(ValueError):
    """The text is not a workflow document (not JSON/YAML, or the wrong shape)."""


def export_document(workflow: Workflow, version: WorkflowVersion) -> dict[str, Any]:
    return {
        "kind": KIND,
        "version": DOCUMENT_VERSION,
        "name": workflow.name,
        "description": workflow.description,
        "graph": version.graph,
    }


def dump(document: dict[str, Any], fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load(text: str | bytes, fmt: str | None = None) -> Any:
    """Parse JSON or YAML (``fmt`` None: JSON first, then YAML, which is a superset)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportError_("the document is not UTF-8 text") from exc
    if fmt in (None, "json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if fmt == "json":
                raise ImportError_(f"not JSON: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportError_(f"not YAML: {exc}") from exc


def parts_of(document: Any, name: str | None = None) -> tuple[str, str, Any]:
    """(name, description, graph) of a workflow document or of a bare graph."""
    if not isinstance(document, dict):
        raise ImportError_("a workflow document is a JSON/YAML object")
    if "kind" in document:
        if document.get("kind") != KIND:
            raise ImportError_(f"kind must be {KIND!r}")
        if document.get("version", DOCUMENT_VERSION) != DOCUMENT_VERSION:
            raise ImportError_(f"document version must be {DOCUMENT_VERSION}")
        if "graph" not in document:
            raise ImportError_("the document has no graph")
        doc_name = name or document.get("name")
        description = document.get("description") or ""
        graph = document["graph"]
    elif "nodes" in document:
        doc_name, description, graph = name, "", document
    else:
        raise ImportError_("neither a workflow document (kind) nor a graph (nodes)")
    if not isinstance(doc_name, str) or not doc_name.strip():
        raise ImportError_("the workflow needs a name")
    if not isinstance(description, str):
        raise ImportError_("description must be a string")
    return doc_name.strip()[:200], description[:5000], graph
