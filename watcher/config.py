"""Settings: ``config/watcher.toml`` plus ``WATCHER_*`` environment overrides, validated once.

Validation is strict because a typo in a config file should fail loudly at start-up, not
silently poll nothing: an unknown key, a bad interval, a bad URL or a duplicate source name
raises ``ConfigError`` naming the file and the key (``sources[1].interval``).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from watcher.exceptions import ConfigError
from watcher.limits import MAX_SOURCE
from watcher.template_dirs import folders

DEFAULT_CONFIG_PATH = Path("config/watcher.toml")
# What the shipped config (and the demo) keeps of the mixed feeds, the image library and
# nasa.gov's news: Perseverance and Ingenuity material, not other missions or classroom kits.
MISSION_KEYWORDS = ("Perseverance", "Ingenuity", "Mars 2020", "Jezero", "Mars Helicopter")
OFF_TOPIC = ("Pathfinder", "Sojourner", "teachers", "educators", "classroom", "lesson plan")
DEFAULT_DATABASE_URL = "sqlite:///var/watcher.db"
SOURCE_KINDS = ("raw_images", "image_library", "rss")
RAW_IMAGE_CATEGORIES = ("mars2020", "ingenuity")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
# A source's name: its candidates, poll state and backfills are stored under it.
_SOURCE_NAME = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_SOURCE - 1}}}")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


@dataclass(frozen=True, slots=True)
class SourceConfig:
    name: str
    kind: str
    url: str
    interval: float
    jitter: float
    enabled: bool = True
    category: str | None = None
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    mission: str | None = None
    page_size: int = 100
    max_pages: int = 100


@dataclass(frozen=True, slots=True)
class FetchConfig:
    contact: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body_bytes: int = 20_000_000
    per_host: int = 1
    max_redirects: int = 5
    backoff_base: float = 60.0
    backoff_max: float = 6 * 3600.0

    @property
    def user_agent(self) -> str:
        from watcher import __version__

        return f"watcher/{__version__} (+{self.contact})"


@dataclass(frozen=True, slots=True)
class EditorConfig:
    """Sign-in and session rules of the editor app."""

    session_idle: float = 8 * 3600.0
    session_max: float = 7 * 86400.0
    login_max_failures: int = 10
    login_lockout: float = 15 * 60.0
    setup_link_ttl: float = 3600.0


# The list's title until an admin sets one: the config file's default, and what the pages,
# the feeds and the mails show whenever no title is configured or stored. The one place
# it is written down, so the site and the mails about it cannot name the list differently.
DEFAULT_TITLE = "The most spectacular images from Mars"
DEFAULT_INTRO = (
    "A running list of the best pictures Perseverance and Ingenuity send home, chosen and "
    "described by our editors. Newest additions at the end."
)


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """The running list: its first title and intro (admins edit them later in the app), how
    soon it follows changes, what the feeds carry. Where it is written: ``Settings.site_dir``.
    ``templates_dir``: the operator's templates, looked up before the shipped ones by the
    site, the web app and the mail alike (see ``watcher.template_dirs``)."""

    title: str = DEFAULT_TITLE
    intro: str = ""
    debounce: float = 30.0
    feed_items: int = 50
    websub_hubs: tuple[str, ...] = ()
    animation_max_frames: int = 60
    animation_max_width: int = 800
    cache_dir: Path = Path("var/cache")
    templates_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """SMTP for subscribers' mail. The password comes from the environment, never the file."""

    enabled: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    security: str = "starttls"  # starttls | tls | none
    username: str | None = None
    password_env: str = "WATCHER_SMTP_PASSWORD"  # noqa: S105 (the variable's name)
    from_address: str = "watcher@localhost"
    confirm_ttl: float = 2 * 86400.0
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    allow_private: bool = False
    max_failures: int = 10
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """The outbox worker: how it claims, retries and gives up."""

    max_attempts: int = 8
    lease: float = 300.0
    retry_base: float = 60.0
    retry_max: float = 6 * 3600.0
    concurrency: int = 8
    subscribe_per_hour: int = 5


@dataclass(frozen=True, slots=True)
class AppriseConfig:
    urls: tuple[str, ...] = ()
    notify_candidates: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path | None
    database_url: str
    auto_upgrade: bool
    host: str
    port: int
    public_url: str | None
    site_dir: Path
    log_level: str
    fetch: FetchConfig
    image_hosts: tuple[str, ...]
    sources: tuple[SourceConfig, ...]
    editor: EditorConfig = EditorConfig()
    publish: PublishConfig = PublishConfig()
    email: EmailConfig = EmailConfig()
    webhooks: WebhookConfig = WebhookConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    apprise: AppriseConfig = AppriseConfig()

    @property
    def base_url(self) -> str:
        """Where readers find the site: ``server.public_url``, else host and port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when readers reach watcher over https."""
        return bool(self.public_url and self.public_url.startswith("https://"))

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} (known: {known})")


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"1h"``, ``"1d"``; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 1h or 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 1h, 1d)")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return seconds


def check_url(value: object) -> str:
    """An absolute http(s) URL with a host; raises ValueError."""
    if not isinstance(value, str):
        raise ValueError("expected a URL string")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value.strip()


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Read, override from the environment, validate. Raises ConfigError."""
    env = os.environ if env is None else env
    explicit = path is not None or bool(env.get("WATCHER_CONFIG"))
    config_path = Path(
        path if path is not None else env.get("WATCHER_CONFIG") or DEFAULT_CONFIG_PATH
    )
    if not config_path.is_file():
        hint = "" if explicit else "; pass --config PATH or set WATCHER_CONFIG"
        raise ConfigError(f"config file not found{hint}", path=str(config_path))
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(config_path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(config_path)) from exc
    settings = settings_from_dict(data, path=config_path)
    return apply_env(settings, env)


def apply_env(settings: Settings, env: Mapping[str, str]) -> Settings:
    """``WATCHER_DATABASE_URL``, ``WATCHER_SITE_DIR`` and ``WATCHER_TEMPLATES_DIR`` win over
    the file."""
    changes: dict[str, Any] = {}
    if env.get("WATCHER_DATABASE_URL"):
        changes["database_url"] = env["WATCHER_DATABASE_URL"]
    if env.get("WATCHER_SITE_DIR"):
        changes["site_dir"] = Path(env["WATCHER_SITE_DIR"])
    if env.get("WATCHER_TEMPLATES_DIR"):
        try:
            templates_dir = _templates_dir(env["WATCHER_TEMPLATES_DIR"])
        except ValueError as exc:
            raise ConfigError(str(exc), key="WATCHER_TEMPLATES_DIR") from None
        changes["publish"] = replace(settings.publish, templates_dir=templates_dir)
    return replace(settings, **changes) if changes else settings


def settings_from_dict(data: Mapping[str, Any], *, path: Path | None = None) -> Settings:
    """Validate a parsed TOML document. Raises ConfigError naming the file and key."""
    reader = _Reader(str(path) if path else "<config>")
    top = reader.table(
        data,
        "",
        (
            "service",
            "database",
            "server",
            "publish",
            "fetch",
            "security",
            "editor",
            "email",
            "webhooks",
            "delivery",
            "apprise",
            "sources",
        ),
    )
    service = reader.table(top.get("service", {}), "service", ("contact", "log_level"))
    database = reader.table(top.get("database", {}), "database", ("url", "auto_upgrade"))
    server = reader.table(top.get("server", {}), "server", ("host", "port", "public_url"))
    publish = reader.table(
        top.get("publish", {}),
        "publish",
        (
            "site_dir",
            "title",
            "intro",
            "debounce",
            "feed_items",
            "websub_hubs",
            "animation_max_frames",
            "animation_max_width",
            "cache_dir",
            "templates_dir",
        ),
    )
    email = reader.table(
        top.get("email", {}),
        "email",
        (
            "enabled",
            "smtp_host",
            "smtp_port",
            "security",
            "username",
            "password_env",
            "from_address",
            "confirm_ttl",
            "timeout",
        ),
    )
    webhooks = reader.table(
        top.get("webhooks", {}), "webhooks", ("allow_private", "max_failures", "timeout")
    )
    delivery = reader.table(
        top.get("delivery", {}),
        "delivery",
        ("max_attempts", "lease", "retry_base", "retry_max", "concurrency", "subscribe_per_hour"),
    )
    apprise = reader.table(top.get("apprise", {}), "apprise", ("urls", "notify_candidates"))
    fetch = reader.table(
        top.get("fetch", {}),
        "fetch",
        (
            "connect_timeout",
            "read_timeout",
            "max_body_bytes",
            "per_host",
            "max_redirects",
            "backoff_base",
            "backoff_max",
        ),
    )
    security = reader.table(top.get("security", {}), "security", ("image_hosts",))
    editor = reader.table(
        top.get("editor", {}),
        "editor",
        ("session_idle", "session_max", "login_max_failures", "login_lockout", "setup_link_ttl"),
    )
    editor_config = EditorConfig(
        session_idle=reader.get(editor, "editor.session_idle", parse_duration, 8 * 3600.0),
        session_max=reader.get(editor, "editor.session_max", parse_duration, 7 * 86400.0),
        login_max_failures=reader.get(editor, "editor.login_max_failures", _int_range(1, 1000), 10),
        login_lockout=reader.get(editor, "editor.login_lockout", parse_duration, 15 * 60.0),
        setup_link_ttl=reader.get(editor, "editor.setup_link_ttl", parse_duration, 3600.0),
    )
    if editor_config.session_max < editor_config.session_idle:
        raise reader.error("editor.session_max", "must not be shorter than editor.session_idle")

    contact = reader.get(
        service, "service.contact", check_url, "https://github.com/watcher-project/watcher"
    )
    log_level = reader.get(service, "service.log_level", _choice(LOG_LEVELS, upper=True), "INFO")
    fetch_config = FetchConfig(
        contact=contact,
        connect_timeout=reader.get(fetch, "fetch.connect_timeout", parse_duration, 10.0),
        read_timeout=reader.get(fetch, "fetch.read_timeout", parse_duration, 30.0),
        max_body_bytes=reader.get(
            fetch, "fetch.max_body_bytes", _int_range(1024, 2**31), 20_000_000
        ),
        per_host=reader.get(fetch, "fetch.per_host", _int_range(1, 16), 1),
        max_redirects=reader.get(fetch, "fetch.max_redirects", _int_range(0, 20), 5),
        backoff_base=reader.get(fetch, "fetch.backoff_base", parse_duration, 60.0),
        backoff_max=reader.get(fetch, "fetch.backoff_max", parse_duration, 6 * 3600.0),
    )
    if fetch_config.backoff_max < fetch_config.backoff_base:
        raise reader.error("fetch.backoff_max", "must not be shorter than fetch.backoff_base")

    sources_data = top.get("sources", [])
    if not isinstance(sources_data, list):
        raise reader.error("sources", "expected an array of tables ([[sources]])")
    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(sources_data):
        source = _source(reader, raw, f"sources[{index}]")
        if source.name in seen:
            raise reader.error(
                f"sources[{index}].name",
                f"duplicate source name {source.name!r} (also sources[{seen[source.name]}])",
            )
        seen[source.name] = index
        sources.append(source)

    return Settings(
        path=path,
        database_url=reader.get(database, "database.url", _database_url, DEFAULT_DATABASE_URL),
        auto_upgrade=reader.get(database, "database.auto_upgrade", _bool, True),
        host=reader.get(server, "server.host", _nonempty_str, "127.0.0.1"),
        port=reader.get(server, "server.port", _int_range(0, 65535), 8000),
        public_url=reader.get(server, "server.public_url", check_url, None),
        site_dir=Path(reader.get(publish, "publish.site_dir", _nonempty_str, "var/site")),
        publish=PublishConfig(
            title=reader.get(publish, "publish.title", _nonempty_str, DEFAULT_TITLE),
            intro=reader.get(publish, "publish.intro", _nonempty_str, DEFAULT_INTRO),
            debounce=reader.get(publish, "publish.debounce", _duration_or_zero, 30.0),
            feed_items=reader.get(publish, "publish.feed_items", _int_range(1, 1000), 50),
            websub_hubs=tuple(reader.get(publish, "publish.websub_hubs", _url_list, [])),
            animation_max_frames=reader.get(
                publish, "publish.animation_max_frames", _int_range(2, 500), 60
            ),
            animation_max_width=reader.get(
                publish, "publish.animation_max_width", _int_range(64, 4000), 800
            ),
            cache_dir=Path(reader.get(publish, "publish.cache_dir", _nonempty_str, "var/cache")),
            templates_dir=reader.get(publish, "publish.templates_dir", _templates_dir, None),
        ),
        email=EmailConfig(
            enabled=reader.get(email, "email.enabled", _bool, False),
            smtp_host=reader.get(email, "email.smtp_host", _nonempty_str, "127.0.0.1"),
            smtp_port=reader.get(email, "email.smtp_port", _int_range(1, 65535), 25),
            security=reader.get(
                email, "email.security", _choice(("starttls", "tls", "none")), "starttls"
            ),
            username=reader.get(email, "email.username", _nonempty_str, None),
            password_env=reader.get(
                email, "email.password_env", _nonempty_str, "WATCHER_SMTP_PASSWORD"
            ),
            from_address=reader.get(email, "email.from_address", _email, "watcher@localhost"),
            confirm_ttl=reader.get(email, "email.confirm_ttl", parse_duration, 2 * 86400.0),
            timeout=reader.get(email, "email.timeout", parse_duration, 30.0),
        ),
        webhooks=WebhookConfig(
            allow_private=reader.get(webhooks, "webhooks.allow_private", _bool, False),
            max_failures=reader.get(webhooks, "webhooks.max_failures", _int_range(1, 1000), 10),
            timeout=reader.get(webhooks, "webhooks.timeout", parse_duration, 10.0),
        ),
        delivery=DeliveryConfig(
            max_attempts=reader.get(delivery, "delivery.max_attempts", _int_range(1, 100), 8),
            lease=reader.get(delivery, "delivery.lease", parse_duration, 300.0),
            retry_base=reader.get(delivery, "delivery.retry_base", parse_duration, 60.0),
            retry_max=reader.get(delivery, "delivery.retry_max", parse_duration, 6 * 3600.0),
            concurrency=reader.get(delivery, "delivery.concurrency", _int_range(1, 64), 8),
            subscribe_per_hour=reader.get(
                delivery, "delivery.subscribe_per_hour", _int_range(1, 10_000), 5
            ),
        ),
        apprise=AppriseConfig(
            urls=tuple(reader.get(apprise, "apprise.urls", _str_list, [])),
            notify_candidates=reader.get(apprise, "apprise.notify_candidates", _bool, True),
        ),
        log_level=log_level,
        fetch=fetch_config,
        image_hosts=tuple(
            reader.get(security, "security.image_hosts", _host_list, ("nasa.gov", "*.nasa.gov"))
        ),
        sources=tuple(sources),
        editor=editor_config,
    )


_SOURCE_KEYS = (
    "name",
    "kind",
    "url",
    "interval",
    "jitter",
    "enabled",
    "category",
    "keywords",
    "exclude",
    "queries",
    "mission",
    "page_size",
    "max_pages",
)


def _source(reader: _Reader, raw: object, where: str) -> SourceConfig:
    table = reader.table(raw, where, _SOURCE_KEYS)
    name = reader.require(table, f"{where}.name", _source_name)
    kind = reader.require(table, f"{where}.kind", _choice(SOURCE_KINDS))
    url = reader.require(table, f"{where}.url", check_url)
    interval = reader.get(table, f"{where}.interval", parse_duration, 3600.0)
    source = SourceConfig(
        name=name,
        kind=kind,
        url=url,
        interval=interval,
        jitter=reader.get(table, f"{where}.jitter", _duration_or_zero, min(interval * 0.1, 300.0)),
        enabled=reader.get(table, f"{where}.enabled", _bool, True),
        category=reader.get(table, f"{where}.category", _choice(RAW_IMAGE_CATEGORIES), None),
        keywords=tuple(reader.get(table, f"{where}.keywords", _str_list, ())),
        exclude=tuple(reader.get(table, f"{where}.exclude", _str_list, ())),
        queries=tuple(reader.get(table, f"{where}.queries", _str_list, ())),
        mission=reader.get(table, f"{where}.mission", _nonempty_str, None),
        page_size=reader.get(table, f"{where}.page_size", _int_range(1, 100), 100),
        max_pages=reader.get(table, f"{where}.max_pages", _int_range(1, 100_000), 100),
    )
    if kind == "raw_images" and source.category is None:
        raise reader.error(
            f"{where}.category", "is required for raw_images (mars2020 or ingenuity)"
        )
    if kind != "raw_images" and "category" in table:
        raise reader.error(f"{where}.category", 'applies only to kind = "raw_images"')
    if kind == "image_library" and not source.queries:
        raise reader.error(
            f"{where}.queries", 'is required for image_library (e.g. ["Perseverance"])'
        )
    if kind != "image_library" and "queries" in table:
        raise reader.error(f"{where}.queries", 'applies only to kind = "image_library"')
    return source


T = TypeVar("T")


class _Reader:
    """Reads values out of the parsed TOML, turning every problem into a ConfigError."""

    def __init__(self, path: str):
        self.path = path

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, key=key)

    def table(self, value: object, where: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where or "<top>", "expected a table")
        for key in value:
            if key not in allowed:
                full = f"{where}.{key}" if where else key
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                )
                raise self.error(full, f"unknown key{hint}")
        return value

    def require(self, table: Mapping[str, Any], key: str, check: Callable[[Any], T]) -> T:
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in table:
            raise self.error(key, "is required")
        try:
            return check(table[leaf])
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def get(self, table: Mapping[str, Any], key: str, check: Callable[[Any], T], default: T) -> T:
        if key.rsplit(".", 1)[-1] not in table:
            return default
        return self.require(table, key, check)


def _choice(options: tuple[str, ...], *, upper: bool = False) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = value.upper() if upper and isinstance(value, str) else value
        if text not in options:
            raise ValueError(f"{value!r} is not one of: {', '.join(options)}")
        return str(text)

    return check


def _int_range(low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not an integer")
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return check


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _nonempty_str(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _source_name(value: object) -> str:
    name = _nonempty_str(value)
    if not _SOURCE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r}: use lowercase letters, digits, '-' and '_' (at most {MAX_SOURCE})"
        )
    return name


def _str_list(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("expected a list of non-empty strings")
    return [v.strip() for v in value]


def _host_list(value: object) -> list[str]:
    hosts = _str_list(value)
    for host in hosts:
        if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?", host):
            raise ValueError(f"{host!r} is not a host name (wildcards as *.example.org)")
    return [h.lower() for h in hosts]


def _url_list(value: object) -> list[str]:
    return [check_url(url) for url in _str_list(value)]


def _email(value: object) -> str:
    address = _nonempty_str(value)
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
        raise ValueError(f"{address!r} is not an email address")
    return address


def _templates_dir(value: object) -> Path:
    """An existing folder laid out like the shipped ``templates/`` (``site/index.html``,
    ...). Checked here because a wrong path would otherwise restyle nothing, silently."""
    path = Path(_nonempty_str(value)).expanduser()
    if not path.is_dir():
        raise ValueError(f"{str(path)!r} is not a directory (it must exist)")
    known = folders()
    if not any((path / name).is_dir() for name in known):
        layout = ", ".join(f"{name}/" for name in known)
        raise ValueError(
            f"{str(path)!r} holds none of the template folders ({layout}): it takes the "
            "layout of templates/, e.g. site/index.html to restyle the list's pages"
        )
    return path


def _duration_or_zero(value: object) -> float:
    """Like ``parse_duration``, but zero ("0", "0s", 0) is allowed: no delay."""
    if value == 0 or value == "0":
        return 0.0
    if isinstance(value, str) and (match := _DURATION.match(value)) and float(match[1]) == 0:
        return 0.0
    return parse_duration(value)


def _database_url(value: object) -> str:
    url = _nonempty_str(value)
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise ValueError(f"{url!r}: only sqlite:/// and postgresql:// URLs are supported")
    return url
