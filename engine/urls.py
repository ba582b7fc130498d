from django.urls import path

from engine import breaker_api, schedule_api, views

urlpatterns = [
    path(
        "workflows/<str:workflow_id>/runs/", views.WorkflowRunsView.as_view(), name="workflow-runs"
    ),
    path(
        "workflows/<str:workflow_id>/schedule/",
        schedule_api.WorkflowScheduleView.as_view(),
        name="workflow-schedule",
    ),
    path("schedules/preview/", schedule_api.SchedulePreviewView.as_view(), name="schedule-preview"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    # Before runs/<pk>/: "compare" is no run id.
    path("runs/compare/", views.RunCompareView.as_view(), name="run-compare"),
    path("runs/<str:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<str:pk>/events/", views.RunEventsView.as_view(), name="run-events"),
    path("runs/<str:pk>/cancel/", views.CancelRunView.as_view(), name="run-cancel"),
    path("runs/<str:pk>/replay/", views.ReplayRunView.as_view(), name="run-replay"),
    path("runs/<str:pk>/steps/<str:node>/retry/", views.RetryStepView.as_view(), name="step-retry"),
    path("runs/<str:pk>/steps/<str:node>/skip/", views.SkipStepView.as_view(), name="step-skip"),
    path("runs/<str:pk>/steps/<str:node>/logs/", views.StepLogsView.as_view(), name="step-logs"),
    path(
        "runs/<str:pk>/steps/<str:node>/compare/",
        views.AttemptCompareView.as_view(),
        name="step-compare",
    ),
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("breakers/", breaker_api.BreakerListView.as_view(), name="breaker-list"),
    path("breakers/<str:pk>/close/", breaker_api.BreakerCloseView.as_view(), name="breaker-close"),
    path("approvals/", views.ApprovalListView.as_view(), name="approval-list"),
    # Before approvals/<pk>/: "bulk-decide" is no task id.
    path("approvals/bulk-decide/", views.BulkDecideView.as_view(), name="approval-bulk-decide"),
    path("approvals/<str:pk>/", views.ApprovalDetailView.as_view(), name="approval-detail"),
    path("approvals/<str:pk>/decide/", views.DecideView.as_view(), name="approval-decide"),
    path("approvals/<str:pk>/delegate/", views.DelegateView.as_view(), name="approval-delegate"),
    path(
        "approvals/<str:pk>/comments/", views.TaskCommentsView.as_view(), name="approval-comments"
    ),
    path(
        "approvals/<str:pk>/attachments/",
        views.TaskAttachmentsView.as_view(),
        name="approval-attachments",
    ),
    path(
        "approvals/<str:pk>/attachments/<str:attachment>/",
        views.TaskAttachmentView.as_view(),
        name="approval-attachment",
    ),
]
