"""Security headers on every response, static files included (docs/security/index.md).

Django's SecurityMiddleware already sends ``X-Content-Type-Options: nosniff``,
``Referrer-Policy`` and ``Cross-Origin-Opener-Policy``, and redirects to HTTPS with HSTS when
``FLOWDECK_HTTPS`` is on; ``XFrameOptionsMiddleware`` sends ``X-Frame-Options: DENY``. Both sit
above WhiteNoise in ``MIDDLEWARE`` so that the files it serves carry them too. This module adds
what Django 5.2 lacks: a Content-Security-Policy, and a Permissions-Policy.

The policy allows scripts, styles, images, fonts and connections from Flowdeck's own origin
only (the websockets included, named for browsers that do not count ws: as 'self'), no plugin,
no frame, no form posting elsewhere, no <base> rewrite. Two exceptions, each for a reason:
``style-src 'unsafe-inline'`` (the login page's <style>, and the editors inject <style> elements
at run time: CodeMirror, React Flow), and ``'unsafe-eval'`` on the app's page only
(``allow_eval``), because react-jsonschema-form validates with ajv, which compiles each JSON
Schema into a function. No inline script runs anywhere, which is what stops injected markup.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

# No page of Flowdeck uses these; a script that was injected gets none of them either.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def content_security_policy(request: HttpRequest, *, allow_eval: bool = False) -> str:
    """The policy for one response; ``allow_eval`` adds 'unsafe-eval' to script-src."""
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 for a bad Host header gets the policy without sockets
        sockets = ""
    else:
        sockets = f" wss://{host}" if request.is_secure() else f" ws://{host}"
    directives = {
        "default-src": "'self'",
        "script-src": "'self' 'unsafe-eval'" if allow_eval else "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": f"'self'{sockets}",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def allow_eval(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a page whose scripts need eval (the app: ajv compiles the forms' schemas)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.csp_allow_eval = True
        return response

    return wrapped


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Adds Content-Security-Policy and Permissions-Policy to every response that has none."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if "Content-Security-Policy" not in response:
            eval_ok = getattr(response, "csp_allow_eval", False)
            response["Content-Security-Policy"] = content_security_policy(
                request, allow_eval=eval_ok
            )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
