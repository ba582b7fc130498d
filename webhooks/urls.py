from django.urls import path

from webhooks import views

urlpatterns = [
    path("hooks/<str:token>/", views.hook, name="webhook-hook"),
    path(
        "workflows/<str:workflow_id>/webhook/", views.WebhookView.as_view(), name="workflow-webhook"
    ),
    path(
        "workflows/<str:workflow_id>/webhook/rotate/",
        views.RotateWebhookView.as_view(),
        name="workflow-webhook-rotate",
    ),
]
