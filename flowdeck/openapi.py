"""The errors every API operation can answer, written into the OpenAPI schema once.

Views document what is theirs (409 for a state conflict, 413, 415, 503); the answers that
come from the framework around every view are added here, so that the schema lists every
status code a client can get (tests/test_api_fuzz.py holds the API to it):

- 400: a bad query parameter or body, on operations that take either;
- 401: not logged in, on operations that need a login;
- 403: a role too weak, or a session write without its CSRF token, on writes;
- 413: a body over the endpoint's size limit, on writes and operations that take a body
  (flowdeck/bodylimit.py: refused by its Content-Length before any of it is read);
- 415: a body of a media type the operation does not read, on operations that take a body;
- 404: an object that does not exist or that the caller may not see, and a page or cursor
  past the end of a list;
- 429: over the API rate limit (``Retry-After`` says when to try again).
"""

import copy
from typing import Any

ERRORS_REF = "#/components/schemas/Errors"
WRITES = frozenset({"post", "put", "patch", "delete"})
PAGING = frozenset({"page", "cursor"})

DESCRIPTIONS = {
    "400": "Bad input: one error per problem, naming its field",
    "401": "Not logged in",
    "403": "A role too weak for this, or a session write without its CSRF token",
    "404": "No such object, or one the caller may not see; a page past the end",
    "413": "A body over this endpoint's size limit (too_large)",
    "415": "A body of a media type this operation does not read",
    "429": "Over the rate limit; Retry-After says when to try again",
}


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    parameters = operation.get("parameters", [])
    query = {p["name"] for p in parameters if p.get("in") == "query"}
    secured = bool(operation.get("security"))
    codes = ["429"]
    if query or "requestBody" in operation:
        codes.append("400")
    if "requestBody" in operation or method in WRITES:
        codes.append("413")
    if "requestBody" in operation:
        codes.append("415")
    if secured:
        codes.append("401")
        if method in WRITES:
            codes.append("403")
    if "{" in path or query & PAGING:
        codes.append("404")
    return codes


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]);
    also adds the ``Graph`` component that designer.serializers.GraphField refers to."""
    from designer.catalog import catalog
    from designer.validation import GRAPH_SCHEMA, NODE_ID

    graph = openapi_30(GRAPH_SCHEMA)
    # What the validator checks beyond the structure, where a schema can say it.
    node = graph["properties"]["nodes"]["items"]["properties"]
    node["id"]["pattern"] = f"^{NODE_ID.pattern}$"
    node["type"]["enum"] = sorted(step_type.type_name for step_type in catalog)
    graph["properties"]["format"]["enum"] = [1]
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Graph"] = graph
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code in _codes(path, method, operation):
                if code not in responses:
                    # A fresh dict each time: shared ones would be written as YAML aliases.
                    content = {"application/json": {"schema": {"$ref": ERRORS_REF}}}
                    responses[code] = {"content": content, "description": DESCRIPTIONS[code]}
            operation["responses"] = dict(sorted(responses.items()))
    return result


def openapi_30(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema (2020-12, as the validators use) written for OpenAPI 3.0: numeric
    ``exclusiveMinimum``/``exclusiveMaximum`` become ``minimum``/``maximum`` with ``true``,
    and an ``enum`` of strings gets its ``type``."""
    out = copy.deepcopy(schema)
    stack = [out]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(node.get(bound), int | float) and not isinstance(node[bound], bool):
                node[plain] = node.pop(bound)
                node[bound] = True
        if "enum" in node and "type" not in node and all(isinstance(v, str) for v in node["enum"]):
            node["type"] = "string"
        stack.extend(node.values())
    return out
