"""ASGI entry point served by daphne: HTTP through Django, websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowdeck.settings")
# Django must be set up before anything imports models (the websocket routes will).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from flowdeck.bodylimit import AsgiBodyLimit  # noqa: E402
from flowdeck.routing import websocket_urlpatterns  # noqa: E402
from flowdeck.wsauth import websocket_stack  # noqa: E402

application = ProtocolTypeRouter(
    {
        # A body over its endpoint's limit never reaches Django's temporary file.
        "http": AsgiBodyLimit(django_asgi_app),
        # Origin check, session, token (flowdeck/wsauth.py), then the consumers.
        "websocket": websocket_stack(URLRouter(websocket_urlpatterns)),
    }
)
