from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from flowdeck.security import allow_eval


@login_required
@allow_eval  # ajv (the forms' JSON Schema validator) compiles schemas with Function()
@require_safe  # a page to read: a write sent here is a mistake (405), not a render
@ensure_csrf_cookie  # the app reads the cookie to send X-CSRFToken on its API writes
def app_shell(request: HttpRequest, route: str = "") -> HttpResponse:
    """The single-page app; every client-side route is served the same page."""
    return render(request, "app.html")
