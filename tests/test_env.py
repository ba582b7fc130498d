"""The settings' environment readers: defaults when unset, values when good, errors on junk."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from flowdeck import env


def test_unset_and_empty_variables_give_the_default():
    assert env.env_int("N", 7, environ={}) == 7
    assert env.env_int("N", 7, environ={"N": "  "}) == 7
    assert env.env_bool("B", True, environ={"B": ""}) is True
    assert env.env_str("S", "d", environ={}) == "d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("off", False)],
)
def test_booleans_are_read_in_their_usual_spellings(raw, expected):
    assert env.env_bool("B", not expected, environ={"B": raw}) is expected


@pytest.mark.parametrize("raw", ["2", "tru", "enabled", "y e s"])
def test_a_junk_boolean_raises_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="FLOWDECK_DEBUG"):
        env.env_bool("FLOWDECK_DEBUG", environ={"FLOWDECK_DEBUG": raw})


@pytest.mark.parametrize("raw", ["two", "1.5", "0x10", "1e3"])
def test_a_junk_integer_raises(raw):
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env.env_int("FLOWDECK_WORKERS", 2, environ={"FLOWDECK_WORKERS": raw})


def test_integers_outside_their_range_raise():
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env.env_int("W", 2, min_value=1, environ={"W": "0"})
    with pytest.raises(ImproperlyConfigured, match="above the maximum"):
        env.env_int("W", 2, max_value=64, environ={"W": "65"})
    assert env.env_int("W", 2, min_value=1, max_value=64, environ={"W": "64"}) == 64


@pytest.mark.parametrize("raw", ["fast", "nan", "inf", "-inf"])
def test_a_junk_float_raises(raw):
    with pytest.raises(ImproperlyConfigured):
        env.env_float("FLOWDECK_POLL", 0.05, environ={"FLOWDECK_POLL": raw})


def test_a_float_is_read_and_range_checked():
    assert env.env_float("P", 0.05, min_value=0.01, environ={"P": "0.2"}) == 0.2
    with pytest.raises(ImproperlyConfigured):
        env.env_float("P", 0.05, min_value=0.01, environ={"P": "0.001"})


def test_lists_are_comma_separated_and_refuse_empty_items():
    assert env.env_list("H", [], environ={"H": "a.example, b.example"}) == [
        "a.example",
        "b.example",
    ]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env.env_list("H", [], environ={"H": "a.example,,b.example"})


def test_urls_must_have_an_allowed_scheme():
    schemes = frozenset({"postgres", "postgresql"})
    url = "postgres://postgres@127.0.0.1:5432/flowdeck"
    assert env.env_url("DATABASE_URL", schemes, environ={"DATABASE_URL": url}) == url
    assert env.env_url("DATABASE_URL", schemes, environ={}) is None
    for junk in ["mysql://x/y", "127.0.0.1:5432", "postgres://"]:
        with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
            env.env_url("DATABASE_URL", schemes, environ={"DATABASE_URL": junk})


def test_a_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    assert env.env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(secret)}) == "s3cret"
    # The variable itself wins over the file.
    assert env.env_str("SECRET_KEY", environ={"SECRET_KEY": "x", "SECRET_KEY_FILE": "/nope"}) == "x"


def test_an_unreadable_secret_file_raises():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE"):
        env.env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": "/nonexistent/secret"})


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    path = tmp_path / "data" / "secret_key"
    first = env.secret_key_from_file(path)
    assert len(first) >= 50
    assert path.stat().st_mode & 0o777 == 0o600
    assert env.secret_key_from_file(path) == first
