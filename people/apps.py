from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Who uses Flowdeck: users, groups and API tokens managed from the app (staff), each
    user's own tokens, set-password links and the first-login password change. An app of its
    own because every other app reads users and groups, and none of them owns them."""

    name = "people"
    verbose_name = "People and access"

    def ready(self) -> None:
        from people import passwords  # noqa: F401  (flags a first login that must change)
