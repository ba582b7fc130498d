from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import csrf, defaults
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from flowdeck.errors import api_error, django_refusal, log_refusal
from flowdeck.security import allow_eval


@login_required
@allow_eval  # ajv (the forms' JSON Schema validator) compiles schemas with Function()
@require_safe  # a page to read: a write sent here is a mistake (405), not a render
@ensure_csrf_cookie  # the app reads the cookie to send X-CSRFToken on its API writes
def app_shell(request: HttpRequest, route: str = "") -> HttpResponse:
    """The single-page app; every client-side route is served the same page."""
    return render(request, "app.html")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's refusals of a request that no view handled (a bad Host header in a middleware,
    a malformed or oversized form read outside DRF): JSON under /api/ (413 for a body over
    the limit), Django's page elsewhere; logged at WARNING without a traceback, and only
    here (Django would log it again at ERROR with one)."""
    status, code, message = django_refusal(exception) or (400, "bad_request", "bad request")
    log_refusal(request, exception, status, code)
    if _is_api(request):
        response = JsonResponse({"errors": [api_error(code, message)]}, status=status)
    else:
        response = defaults.bad_request(request, exception)
    response._has_been_logged = True  # read by django.utils.log.log_response
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's PermissionDenied outside DRF (which answers its own): JSON under /api/."""
    if _is_api(request):
        error = api_error("permission_denied", "you may not do this")
        return JsonResponse({"errors": [error]}, status=403)
    return defaults.permission_denied(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's CSRF middleware refusing a plain view under /api/ answers
    as DRF's views do (403 JSON); pages keep Django's page."""
    if _is_api(request):
        error = api_error("permission_denied", f"CSRF Failed: {reason}")
        return JsonResponse({"errors": [error]}, status=403)
    return csrf.csrf_failure(request, reason)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL that matches no route: under /api/ (say /api/workflows/abc/, where an id is
    digits) the API's JSON error, as every other API answer; elsewhere Django's page."""
    if _is_api(request):
        error = api_error("not_found", f"no API endpoint at {request.path}")
        return JsonResponse({"errors": [error]}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled exception (a bug, logged by Django with its traceback): API clients still
    get the error shape, without the details."""
    if _is_api(request):
        error = api_error("server_error", "the server failed; the error is logged")
        return JsonResponse({"errors": [error]}, status=500)
    return defaults.server_error(request)
