from django.urls import path

from alerts import views

# Included before engine.urls: "runs/dead-letter/" would otherwise be read as a run id.
urlpatterns = [
    path("alerts/rules/", views.AlertRuleListView.as_view(), name="alert-rule-list"),
    path("alerts/rules/<str:pk>/", views.AlertRuleDetailView.as_view(), name="alert-rule-detail"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<str:pk>/resolve/", views.ResolveAlertView.as_view(), name="alert-resolve"),
    path("runs/dead-letter/", views.DeadLetterListView.as_view(), name="dead-letter-list"),
    path("runs/dead-letter/retry/", views.DeadLetterRetryView.as_view(), name="dead-letter-retry"),
]
