"""System checks refuse deployments that would misbehave (flowdeck.E0xx)."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from flowdeck.checks import check_base_url, check_deployment_mode, check_redis_reachable
from tests.helpers import free_port


def ids(messages) -> set[str]:
    return {message.id for message in messages}


def test_the_embedded_default_on_one_machine_passes():
    with override_settings(EMBEDDED=True, FLOWDECK_MACHINES=1, REDIS_URL=None):
        assert check_deployment_mode(None) == []


def test_sqlite_with_several_machines_is_an_error():
    with override_settings(EMBEDDED=True, FLOWDECK_MACHINES=3, REDIS_URL=None):
        assert {"flowdeck.E001", "flowdeck.E003"} <= ids(check_deployment_mode(None))


def test_several_machines_without_redis_is_an_error():
    with override_settings(EMBEDDED=False, FLOWDECK_MACHINES=2, REDIS_URL=None):
        assert "flowdeck.E003" in ids(check_deployment_mode(None))
    with override_settings(
        EMBEDDED=False,
        FLOWDECK_MACHINES=2,
        REDIS_URL="redis://127.0.0.1:6379/0",
        FLOWDECK_CREDENTIALS_KEY="a-shared-key",
    ):
        assert ids(check_deployment_mode(None)) == set()


def test_several_machines_without_a_shared_credentials_key_is_an_error():
    # Each machine would generate its own key and could not open the others' credentials.
    with override_settings(
        EMBEDDED=False,
        FLOWDECK_MACHINES=2,
        REDIS_URL="redis://127.0.0.1:6379/0",
        FLOWDECK_CREDENTIALS_KEY="",
    ):
        assert ids(check_deployment_mode(None)) == {"flowdeck.E004"}


def test_mail_over_smtp_without_a_base_url_is_a_warning_its_links_would_point_nowhere():
    with override_settings(EMAIL_HOST="smtp.example.com", FLOWDECK_BASE_URL_SET=False):
        assert ids(check_base_url(None)) == {"flowdeck.W002"}
    with override_settings(EMAIL_HOST="smtp.example.com", FLOWDECK_BASE_URL_SET=True):
        assert check_base_url(None) == []
    with override_settings(EMAIL_HOST="", FLOWDECK_BASE_URL_SET=False):
        assert check_base_url(None) == []


def test_postgresql_without_redis_is_a_warning():
    with override_settings(EMBEDDED=False, FLOWDECK_MACHINES=1, REDIS_URL=None):
        assert ids(check_deployment_mode(None)) == {"flowdeck.W001"}


def test_an_unreachable_redis_is_an_error():
    # Nothing listens on a port that was free a moment ago.
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        messages = check_redis_reachable(None)
    assert ids(messages) == {"flowdeck.E002"}


def test_manage_py_check_fails_on_those_errors():
    with (
        override_settings(EMBEDDED=True, FLOWDECK_MACHINES=2, REDIS_URL=None),
        pytest.raises(SystemCheckError, match="flowdeck.E001"),
    ):
        call_command("check", tags=["flowdeck"])
