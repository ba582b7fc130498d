"""Websocket routes (CONTRACT §6)."""

from django.urls import path

from engine.consumers import InboxConsumer, RunEventsConsumer, RunsFeedConsumer, WorkflowConsumer

websocket_urlpatterns = [
    path("ws/runs/", RunsFeedConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", RunEventsConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/workflows/<int:workflow_id>/", WorkflowConsumer.as_asgi()),
]
