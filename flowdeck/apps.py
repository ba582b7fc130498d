from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class FlowdeckConfig(AppConfig):
    name = "flowdeck"
    verbose_name = "Flowdeck"

    def ready(self) -> None:
        from flowdeck import (
            checks,  # noqa: F401  (registers the system checks)
            login_throttle,  # noqa: F401  (counts failed logins)
        )


class FlowdeckAdminConfig(AdminConfig):
    """``django.contrib.admin`` with Flowdeck's site (a throttled login)."""

    default_site = "flowdeck.admin_site.FlowdeckAdminSite"
