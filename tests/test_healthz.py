"""/healthz in-process: the database and the broker answer, but no worker runs here."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_503_while_no_worker_is_alive(client):
    from django_q.brokers import get_broker

    # Earlier tests' after-commit tasks may sit in a shared broker (Redis in scale-out mode):
    # start from an empty queue, so the count below is this test's own.
    get_broker().purge_queue()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True and body["broker"]["queued"] == 0
    assert body["workers"] == {"ok": False, "clusters": 0, "workers": 0}


def test_healthz_needs_no_login_and_reveals_no_secrets(client, settings):
    body = client.get("/healthz").content.decode()
    assert settings.SECRET_KEY not in body
    assert str(settings.DATABASES["default"]["NAME"]) not in body
