"""Websocket routes (CONTRACT §6)."""

from django.urls import path

from engine.consumers import InboxConsumer, RunEventsConsumer, RunsFeedConsumer

websocket_urlpatterns = [
    path("ws/runs/", RunsFeedConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", RunEventsConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
]
