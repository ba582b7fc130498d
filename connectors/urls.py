from django.urls import path

from connectors import views

urlpatterns = [
    path("credentials/", views.CredentialListView.as_view(), name="credential-list"),
    path("credentials/kinds/", views.CredentialKindListView.as_view(), name="credential-kinds"),
    path("credentials/<int:pk>/", views.CredentialDetailView.as_view(), name="credential-detail"),
    path(
        "credentials/<int:pk>/grants/",
        views.CredentialGrantListView.as_view(),
        name="credential-grants",
    ),
    path(
        "credentials/<int:pk>/grants/<int:grant_id>/",
        views.CredentialGrantDetailView.as_view(),
        name="credential-grant-detail",
    ),
]
