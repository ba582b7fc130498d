"""The same people in every test (STYLE 11): alice owns workflows, bob approves in finance,
charlie has no access, admin is staff."""

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def bob(db) -> User:
    user = User.objects.create_user("bob", password="bob-pass-123")
    finance, _ = Group.objects.get_or_create(name="finance")
    user.groups.add(finance)
    return user


@pytest.fixture
def charlie(db) -> User:
    return User.objects.create_user("charlie", password="charlie-pass-123")


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser("admin", password="admin-pass-123")


@pytest.fixture
def api() -> APIClient:
    return APIClient()
