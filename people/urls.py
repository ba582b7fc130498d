from django.urls import path

from people import views

urlpatterns = [
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/deactivate/", views.UserDeactivateView.as_view(), name="user-deactivate"),
    path("users/<int:pk>/reactivate/", views.UserReactivateView.as_view(), name="user-reactivate"),
    path("users/<int:pk>/password/", views.UserPasswordView.as_view(), name="user-password"),
    path("groups/", views.GroupListView.as_view(), name="group-list"),
    path("groups/<int:pk>/", views.GroupDetailView.as_view(), name="group-detail"),
    path("groups/<int:pk>/members/", views.GroupMembersView.as_view(), name="group-members"),
    path(
        "groups/<int:pk>/members/<int:user_id>/",
        views.GroupMemberView.as_view(),
        name="group-member",
    ),
    path("tokens/", views.TokenListView.as_view(), name="token-list"),
    path("tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token-detail"),
    path("account/absences/", views.AbsenceListView.as_view(), name="absence-list"),
    path("account/absences/<int:pk>/", views.AbsenceDetailView.as_view(), name="absence-detail"),
]
