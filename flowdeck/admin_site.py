"""Flowdeck's admin site: Django's, with the login throttled like /login/
(flowdeck/login_throttle.py). Installed by ``FlowdeckAdminConfig`` (flowdeck/apps.py) in place of
``django.contrib.admin``, the documented way to replace the default site."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from flowdeck.login_throttle import SAFE_METHODS, client_address, locked_for, locked_response


class FlowdeckAdminSite(admin.AdminSite):
    site_header = "Flowdeck administration"
    site_title = "Flowdeck admin"

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            wait = locked_for(request.POST.get("username", ""), client_address(request))
            if wait is not None:
                return locked_response(request, wait)
        return super().login(request, extra_context)
