from django.urls import path
from rest_framework.routers import SimpleRouter

from designer.views import StepTypeListView, WorkflowViewSet

router = SimpleRouter()
router.register("workflows", WorkflowViewSet, basename="workflow")

urlpatterns = [
    path("step-types/", StepTypeListView.as_view(), name="step-types"),
    *router.urls,
]
