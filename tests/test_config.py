"""Config: the shipped file loads, env overrides apply, and every bad value names file + key."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from watcher.config import MISSION_KEYWORDS, OFF_TOPIC, load_settings, parse_duration
from watcher.db.schema import candidates, poll_state
from watcher.exceptions import ConfigError
from watcher.limits import MAX_SOURCE

from .conftest import ROOT

SOURCE = """
[[sources]]
name = "perseverance"
kind = "raw_images"
url = "https://mars.nasa.gov/rss/api/"
category = "mars2020"
interval = "10m"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text)
    return path


def test_shipped_config_has_the_four_real_sources() -> None:
    settings = load_settings(ROOT / "config" / "watcher.toml", env={})
    by_name = {s.name: s for s in settings.sources}
    assert list(by_name) == ["perseverance", "ingenuity", "image_library", "nasa_rss"]
    assert by_name["perseverance"].category == "mars2020"
    assert by_name["perseverance"].interval == 600
    assert by_name["ingenuity"].category == "ingenuity"
    assert by_name["ingenuity"].interval == 86400
    assert by_name["image_library"].url == "https://images-api.nasa.gov/search"
    assert by_name["image_library"].interval == 3600
    assert by_name["nasa_rss"].url == "https://www.nasa.gov/feed/"
    for name in ("image_library", "nasa_rss"):  # the same topic rules as the demo's
        assert by_name[name].keywords == MISSION_KEYWORDS
        assert by_name[name].exclude == OFF_TOPIC
    assert settings.database_url == "sqlite:///var/watcher.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert "watcher/" in settings.fetch.user_agent
    assert "https://" in settings.fetch.user_agent


def test_environment_overrides_database_site_dir_and_config_path(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE)
    env = {
        "WATCHER_CONFIG": str(path),
        "WATCHER_DATABASE_URL": "postgresql://watcher@db/watcher",
        "WATCHER_SITE_DIR": str(tmp_path / "out"),
    }
    settings = load_settings(None, env=env)
    assert settings.path == path
    assert settings.database_url == "postgresql://watcher@db/watcher"
    assert settings.site_dir == tmp_path / "out"


def test_explicit_path_wins_over_environment(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE)
    settings = load_settings(path, env={"WATCHER_CONFIG": str(tmp_path / "nope.toml")})
    assert settings.path == path


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            SOURCE.replace('interval = "10m"', 'intervall = "10m"'),
            "sources[0].intervall",
            "did you mean 'interval'",
        ),
        (SOURCE.replace('"10m"', '"10x"'), "sources[0].interval", "not a duration"),
        (SOURCE.replace('"10m"', "0"), "sources[0].interval", "longer than zero"),
        (SOURCE.replace('"10m"', '"-5m"'), "sources[0].interval", "not a duration"),
        (
            SOURCE.replace("https://mars.nasa.gov/rss/api/", "ftp://mars.nasa.gov/"),
            "sources[0].url",
            "http(s)",
        ),
        (
            SOURCE.replace("https://mars.nasa.gov/rss/api/", "not a url"),
            "sources[0].url",
            "http(s)",
        ),
        (SOURCE + SOURCE, "sources[1].name", "duplicate source name 'perseverance'"),
        (
            SOURCE.replace('"raw_images"', '"flickr"'),
            "sources[0].kind",
            "raw_images, image_library, rss",
        ),
        (SOURCE.replace('category = "mars2020"\n', ""), "sources[0].category", "required"),
        (SOURCE.replace('"mars2020"', '"msl"'), "sources[0].category", "mars2020, ingenuity"),
        (SOURCE.replace('name = "perseverance"\n', ""), "sources[0].name", "required"),
        ("[server]\nport = 70000\n", "server.port", "outside"),
        ("[server]\nprot = 8000\n", "server.prot", "did you mean 'port'"),
        ("[server]\ntrusted_proxies = '10.0.0.1'\n", "server.trusted_proxies", "list of"),
        ("[server]\ntrusted_proxies = ['10.0.0.1/8']\n", "server.trusted_proxies", "'10.0.0.0/8'"),
        ("[server]\ntrusted_proxies = ['proxy.lan']\n", "server.trusted_proxies", "by address"),
        ("[databse]\nurl = 'x'\n", "databse", "did you mean 'database'"),
        ("[database]\nurl = 'mysql://x'\n", "database.url", "only sqlite"),
        (
            "[fetch]\nbackoff_base = '1h'\nbackoff_max = '1m'\n",
            "fetch.backoff_max",
            "not be shorter",
        ),
        (
            "[security]\nimage_hosts = ['https://x.org/']\n",
            "security.image_hosts",
            "not a host name",
        ),
        ("sources = 'x'\n", "sources", "array of tables"),
        (SOURCE + "exclude = 'Pathfinder'\n", "sources[0].exclude", "list of non-empty strings"),
    ],
)
def test_invalid_config_names_the_file_and_the_key(
    tmp_path: Path, text: str, key: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert str(path) in message
    assert f": {key}: " in message
    assert fragment in message
    assert info.value.key == key


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(path, env={})
    assert str(path) in str(info.value)


def test_missing_config_file_says_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="--config PATH or set WATCHER_CONFIG"):
        load_settings(None, env={})


def test_unknown_source_name_lists_the_known_ones(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, SOURCE), env={})
    with pytest.raises(ConfigError, match="known: perseverance"):
        settings.source("curiosity")


def test_a_source_name_is_as_long_as_the_database_keeps_and_no_longer(tmp_path: Path) -> None:
    assert candidates.c.source.type.length == poll_state.c.source.type.length == MAX_SOURCE
    longest = "p" * MAX_SOURCE
    settings = load_settings(write(tmp_path, SOURCE.replace("perseverance", longest)), env={})
    assert settings.sources[0].name == longest
    too_long = write(tmp_path, SOURCE.replace("perseverance", longest + "p"))
    with pytest.raises(ConfigError, match=f"at most {MAX_SOURCE}"):
        load_settings(too_long, env={})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        ("90", 90.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
    ],
)
def test_durations_parse(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    ["", "m", "10 minutes", True, None, [], "1h30m", math.nan, math.inf, "36501d", 2**63 - 1],
)
def test_bad_durations_are_rejected(value: object) -> None:
    """TOML's nan and inf, and lengths no timer can be set for, too (found by
    tests/test_parsers_properties.py: they were accepted, to fail when the service ran)."""
    with pytest.raises(ValueError):
        parse_duration(value)


def test_the_longest_duration_is_a_hundred_years(tmp_path: Path) -> None:
    assert parse_duration("36500d") == 36500 * 86400
    path = write(tmp_path, SOURCE.replace('interval = "10m"', "interval = nan"))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.interval: nan is not a duration"):
        load_settings(path, env={})


def test_a_templates_dir_in_the_home_of_no_user_is_a_config_error(tmp_path: Path) -> None:
    """``~name`` of an unknown user made pathlib raise RuntimeError: a traceback, not the
    one line naming the key (found by tests/test_parsers_properties.py)."""
    path = write(tmp_path, '[publish]\ntemplates_dir = "~nosuchuser-watcher/look"\n' + SOURCE)
    with pytest.raises(ConfigError, match=r"publish\.templates_dir: .*no such user"):
        load_settings(path, env={})
    with pytest.raises(ConfigError, match=r"WATCHER_TEMPLATES_DIR: .*no such user"):
        load_settings(write(tmp_path, SOURCE), env={"WATCHER_TEMPLATES_DIR": "~nosuchuser-w/x"})
