"""Websocket routes (CONTRACT §6). The consumers arrive with the live-updates issue."""

websocket_urlpatterns: list = []
