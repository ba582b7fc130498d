from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from engine.linkviews import TaskLinkView
from engine.metrics import metrics_view
from flowdeck import api, docs, health, views
from flowdeck.login_throttle import throttled
from people import passwords

api_patterns = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (the CSP forbids it).
    # Our template puts Swagger UI in Flowdeck's frame (header, theme, dark mode).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("", include("designer.urls")),
    path("", include("alerts.urls")),
    path("", include("connectors.urls")),
    path("", include("webhooks.urls")),
    path("", include("engine.urls")),
    path("", include("people.urls")),
]

urlpatterns = [
    path(
        "login/",
        throttled(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("change-password/", passwords.ChangePasswordView.as_view(), name="change-password"),
    # The link's token leaves the URL for the session at once (Django's reset view).
    path(
        "set-password/<uidb64>/<token>/",
        passwords.SetPasswordView.as_view(),
        name="set-password",
    ),
    path("set-password/done/", passwords.SetPasswordDoneView.as_view(), name="set-password-done"),
    # A task email's signed link: the token is the credential where the workflow says so.
    path("tasks/act/<str:token>/", TaskLinkView.as_view(), name="task-link"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/", include(api_patterns)),
    # The documentation site (mkdocs.yml, docs/), once built; /docs goes to /docs/ (APPEND_SLASH).
    re_path(r"^docs/(?P<path>.*)$", docs.serve, name="docs"),
    path("", views.app_shell, name="app"),
    # Client-side routes of the single-page app; React Router takes it from there.
    re_path(
        r"^(?P<route>workflows|designer|runs|inbox|dashboard|credentials|people|account)(?:/.*)?$",
        views.app_shell,
    ),
]

# JSON errors under /api/ (flowdeck/views.py); Django's pages elsewhere.
handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.not_found
handler500 = views.server_error
