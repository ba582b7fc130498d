"""Passwords chosen by their users: the set-password link's page, and the first login with a
one-time password, which must choose a new one before it reaches anything else.

The flag lives in ``Account.must_change_password``; at login it is copied into the session, so
that the check on every request (``require_new_password``) reads the session it has loaded
anyway instead of querying. Issuing a one-time password changes the password hash, which ends
the user's other sessions, so no session can miss the flag.
"""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView

from flowdeck.errors import api_error
from people import accounts

SESSION_FLAG = "flowdeck_must_change_password"
# What a session with the flag may still reach: the page that clears it, leaving, the link
# pages, and what those pages load.
OPEN_PREFIXES = ("/change-password/", "/logout/", "/login/", "/set-password/", "/static/")


@receiver(user_logged_in)
def _flag_the_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        if accounts.must_change_password(user):
            request.session[SESSION_FLAG] = True
        else:
            request.session.pop(SESSION_FLAG, None)


def require_new_password(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Middleware: a session logged in with a one-time password is sent to choose a new one
    (pages), or refused with 403 ``password_change_required`` (the API)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        # Only a request with a session cookie can carry the flag: others never load a session.
        has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
        if (
            has_session
            and request.session.get(SESSION_FLAG)
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            page = reverse("change-password")
            if request.path.startswith("/api/"):
                error = api_error(
                    "password_change_required",
                    f"choose a new password at {page} before using the API",
                )
                return JsonResponse({"errors": [error]}, status=403)
            return HttpResponseRedirect(f"{page}?{urlencode({'next': request.get_full_path()})}")
        return get_response(request)

    return middleware


class DrawnByTheApp:
    """What frontend/src/auth.tsx needs to draw a password form with the app's theme: the
    form's errors and the password rules, as JSON for the page's data attributes."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        errors = form.errors.get_json_data() if form is not None and form.is_bound else {}
        context["errors_json"] = json.dumps(errors)
        context["rules_json"] = json.dumps(password_validators_help_texts())
        return context


class NewPasswordForm(PasswordChangeForm):
    """Django's change form, refusing the old password as the new one (a one-time password
    was seen by whoever created the account)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        new = cleaned.get("new_password2")
        if new and new == cleaned.get("old_password"):
            self.add_error(
                "new_password2",
                forms.ValidationError(
                    "Choose a password different from the current one.", code="password_unchanged"
                ),
            )
        return cleaned


class ChangePasswordView(DrawnByTheApp, auth_views.PasswordChangeView):
    """The logged-in user changes their password; after a one-time password, they must."""

    form_class = NewPasswordForm
    http_method_names = ["get", "post"]  # Django's form views also take PUT; no form sends it
    template_name = "people/change_password.html"
    success_url = reverse_lazy("app")

    def get_form(self, form_class: Any = None) -> NewPasswordForm:
        form = super().get_form(form_class)
        if self.request.session.get(SESSION_FLAG):
            form.fields["old_password"].label = "One-time password"
        return form

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["forced"] = bool(self.request.session.get(SESSION_FLAG))
        context["next"] = self.request.GET.get("next", "")
        return context

    def get_success_url(self) -> str:
        wanted = self.request.POST.get("next") or self.request.GET.get("next") or ""
        safe = url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        )
        return wanted if wanted and safe else str(self.success_url)

    def form_valid(self, form: NewPasswordForm) -> HttpResponse:
        # Django's form_valid saves the password and keeps this session (a new hash).
        response = super().form_valid(form)
        forced = self.request.session.pop(SESSION_FLAG, False)
        accounts.do_password_chosen(
            user=form.user, via="after a one-time password" if forced else "account page"
        )
        return response


class SetPasswordView(DrawnByTheApp, auth_views.PasswordResetConfirmView):
    """The page a set-password link opens (Django's reset confirmation: the token leaves the
    URL for the session before the form shows, so no Referer carries it)."""

    template_name = "people/set_password.html"
    success_url = reverse_lazy("set-password-done")
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Django's view answers a dead link with its page before looking at the method.
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        # A deactivated user's link is as dead as the account.
        return user if user is not None and user.is_active else None

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        accounts.do_password_chosen(user=form.user, via="set-password link")
        # Whatever this browser's session was flagged for, that password is gone now.
        self.request.session.pop(SESSION_FLAG, None)
        return response


class SetPasswordDoneView(TemplateView):
    http_method_names = ["get"]
    template_name = "people/set_password_done.html"
