"""U+0000 is refused at the door: PostgreSQL can keep it neither in text nor in jsonb (a row
with one fails to save, a query with one fails to run), so on scale-out a NUL in a name, a
graph, a run's input or a query parameter was a 500. SQLite keeps it; it is refused there too,
so that both modes answer alike. Found by tests/test_api_fuzz.py."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import parsers
from rest_framework.exceptions import ParseError

NUL = "\x00"


def has_nul(value: Any) -> bool:
    """Does a parsed body hold U+0000 in any string, key or value (iteratively: any depth)?"""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "lists"):  # a QueryDict from a form
            for key, values in item.lists():
                stack.append(key)
                stack.extend(values)
    return False


def _checked(data: Any) -> Any:
    if has_nul(data):
        raise ParseError("the body may not contain the character U+0000")
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return _checked(super().parse(stream, media_type, parser_context))


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return _checked(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _checked(result.data)
        return result


def refuse_nul_in_urls(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Middleware: an API request with U+0000 in its path or its query string is a 400."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            field = None
            if NUL in request.path:
                field = "path"
            else:
                for name, values in request.GET.lists():
                    if NUL in name or any(NUL in value for value in values):
                        field = name.replace(NUL, "") or "query"
                        break
            if field is not None:
                # The error shape of flowdeck.errors.api_error, built here: importing it (and so
                # DRF's views) from this module, which DRF's settings import, would be a cycle.
                error = {
                    "node": None,
                    "edge": None,
                    "field": field,
                    "code": "invalid",
                    "message": "U+0000 is not allowed in a URL",
                }
                return JsonResponse({"errors": [error]}, status=400)
        return get_response(request)

    return middleware
