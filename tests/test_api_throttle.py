"""API rate limits: per user (FLOWDECK_API_RATE_USER) and per anonymous client address
(FLOWDECK_API_RATE_ANON), counted in a cache every process shares; beyond the rate, 429 with
Retry-After and the contract's error shape. Rates are per day here, so that no test straddles
the end of a window."""

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from flowdeck.env import env_rate, parse_rate
from flowdeck.throttling import AnonRateThrottle, UserRateThrottle, forget
from tests.helpers import api_key, free_port
from tests.test_settings_modes import load_settings
from tests.workers import WebServer

pytestmark = pytest.mark.django_db

DAY = 86400


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def user_rate(settings):
    """Sets the per-user rate and starts the given users' counts from zero."""

    def set_rate(rate: str, *users) -> None:
        settings.FLOWDECK_API_RATE_USER = rate
        for user in users:
            forget(UserRateThrottle, str(user.pk))

    return set_rate


@pytest.fixture
def anon_rate(settings):
    def set_rate(rate: str, *addresses: str) -> None:
        settings.FLOWDECK_API_RATE_ANON = rate
        for address in addresses:
            forget(AnonRateThrottle, address)

    return set_rate


def test_a_user_beyond_the_rate_gets_429_with_retry_after_and_the_error_shape(alice, user_rate):
    user_rate("3/day", alice)
    client = as_user(alice)

    answers = [client.get("/api/me/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    throttled = answers[-1]
    assert 1 <= int(throttled["Retry-After"]) <= DAY
    [error] = throttled.json()["errors"]
    assert error["code"] == "throttled"
    assert error["message"].startswith("Request was throttled.")


def test_one_user_beyond_the_rate_does_not_slow_another(alice, bob, user_rate):
    user_rate("2/day", alice, bob)
    for _ in range(3):
        as_user(alice).get("/api/me/")

    assert as_user(alice).get("/api/me/").status_code == 429
    assert as_user(bob).get("/api/me/").status_code == 200


def test_every_endpoint_counts_towards_one_rate_per_user(alice, user_rate):
    user_rate("2/day", alice)
    client = as_user(alice)

    assert client.get("/api/me/").status_code == 200
    assert client.get("/api/workflows/").status_code == 200
    assert client.get("/api/runs/").status_code == 429


def test_off_lifts_the_limit(alice, user_rate):
    user_rate("off", alice)

    assert {as_user(alice).get("/api/me/").status_code for _ in range(5)} == {200}


def test_when_the_throttle_cache_is_down_requests_go_through(alice, user_rate, settings, caplog):
    user_rate("1/day", alice)
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    throttle_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache"}
    settings.CACHES = {**settings.CACHES, "throttle": {**throttle_cache, "LOCATION": nothing_there}}

    codes = [as_user(alice).get("/api/me/").status_code for _ in range(2)]

    assert codes == [200, 200]
    assert "a rate limit was not checked" in caplog.text


class OpenView(APIView):
    """An endpoint open without a login, as the webhook one is."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return Response({"ok": True})


def open_call(address: str, forwarded_for: str | None = None) -> int:
    extra = {"REMOTE_ADDR": address}
    if forwarded_for:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    request = APIRequestFactory().get("/open/", **extra)
    return OpenView.as_view()(request).status_code


def test_anonymous_calls_are_counted_per_client_address(anon_rate):
    anon_rate("2/day", "10.0.0.1", "10.0.0.2")

    assert [open_call("10.0.0.1") for _ in range(3)] == [200, 200, 429]
    assert open_call("10.0.0.2") == 200


def test_an_anonymous_client_cannot_escape_its_count_with_x_forwarded_for(anon_rate):
    anon_rate("2/day", "10.0.0.3")

    calls = [open_call("10.0.0.3", forwarded_for=f"192.0.2.{n}") for n in range(3)]

    assert calls == [200, 200, 429]


def test_behind_trusted_proxies_the_client_address_comes_from_x_forwarded_for(settings, anon_rate):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    anon_rate("1/day", "192.0.2.7", "192.0.2.8")

    assert open_call("10.0.0.9", forwarded_for="192.0.2.7") == 200
    assert open_call("10.0.0.9", forwarded_for="192.0.2.7") == 429
    assert open_call("10.0.0.9", forwarded_for="192.0.2.8") == 200


def test_healthz_is_not_throttled(api, anon_rate):
    anon_rate("1/day", "127.0.0.1")

    assert 429 not in {api.get("/healthz").status_code for _ in range(3)}


@pytest.mark.django_db(transaction=True)
def test_processes_share_one_count(alice, user_rate, tmp_path):
    """Two requests here, then two through a daphne process, and the next is over 4/day."""

    user_rate("4/day", alice)
    token = api_key(alice)
    for _ in range(2):
        assert as_user(alice).get("/api/me/").status_code == 200
    web = WebServer(tmp_path / "web.log", free_port(), FLOWDECK_API_RATE_USER="4/day").start()
    try:
        with httpx.Client(base_url=web.url, headers={"Authorization": f"Token {token}"}) as http:
            codes = [http.get("/api/me/").status_code for _ in range(3)]
    finally:
        web.stop()

    assert codes == [200, 200, 429]


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("1200/min", (1200, 60)),
        ("5/s", (5, 1)),
        ("10 / hour", (10, 3600)),
        ("1/DAY", (1, DAY)),
        ("300/minutes", (300, 60)),
        ("off", None),
    ],
)
def test_a_rate_is_requests_per_period_or_off(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["1200", "0/min", "-1/min", "1.5/s", "10/week", "/min", "x/s"])
def test_anything_else_is_not_a_rate(text):
    with pytest.raises(ImproperlyConfigured) as caught:
        env_rate("FLOWDECK_API_RATE_USER", "1200/min", environ={"FLOWDECK_API_RATE_USER": text})
    assert str(caught.value).startswith(f"FLOWDECK_API_RATE_USER={text!r} is not a rate")


def test_the_defaults_are_generous_for_users_and_tighter_for_anonymous_calls():
    from flowdeck import settings as loaded  # the module, not the tests' overrides

    assert (loaded.FLOWDECK_API_RATE_USER, loaded.FLOWDECK_API_RATE_ANON) == ("1200/min", "120/min")
    assert loaded.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_a_junk_rate_stops_the_settings_from_loading_naming_the_variable(tmp_path):
    result = load_settings(tmp_path, FLOWDECK_API_RATE_ANON="lots")

    assert result.returncode != 0
    assert "FLOWDECK_API_RATE_ANON='lots' is not a rate" in result.stderr
