"""Reading a parsed ``watcher.toml`` into ``Settings``: one small reader per section.

``read_settings`` (behind ``watcher.config.settings_from_dict``) first checks every table's
keys, so a misspelt key is reported before any value, then reads the sections one by one.
Each reader gets its table as a ``Section``, which knows the file and the table's dotted name,
so every ConfigError names both (``fetch.read_timeout``, ``sources[1].interval``). An
optional table's defaults come from its dataclass in ``watcher.config``, written down once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, TypeVar

from watcher.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_INTRO,
    LOG_FORMATS,
    LOG_LEVELS,
    RAW_IMAGE_CATEGORIES,
    SOURCE_KINDS,
    AppriseConfig,
    DeliveryConfig,
    EditorConfig,
    EmailConfig,
    FetchConfig,
    PublishConfig,
    Settings,
    SourceConfig,
    WebhookConfig,
)
from watcher.config_checks import (
    boolean,
    check_url,
    choice,
    database_url,
    directory,
    duration_or_zero,
    email_address,
    host_tuple,
    int_range,
    network_tuple,
    nonempty_str,
    parse_duration,
    source_name,
    str_tuple,
    templates_dir,
    url_tuple,
)
from watcher.config_curate import KEYS as CURATE_KEYS
from watcher.config_curate import read_curate
from watcher.config_retention import KEYS as RETENTION_KEYS
from watcher.config_retention import read_retention
from watcher.exceptions import ConfigError

T = TypeVar("T")

# The top-level tables, in the order the error for an unknown one lists them.
TOP_LEVEL = (
    "service", "database", "server", "publish", "fetch", "security", "editor", "email",
    "webhooks", "delivery", "apprise", "curate", "retention", "sources",
)  # fmt: skip
# Each table's keys, in the order they are checked: all tables' keys before any value.
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "service": ("contact", "log_level", "log_format"),
    "database": ("url", "auto_upgrade"),
    "server": (
        "host", "port", "public_url", "trusted_proxies", "metrics_allow", "metrics_public",
    ),
    "publish": (
        "site_dir", "title", "intro", "debounce", "feed_items", "websub_hubs",
        "animation_max_frames", "animation_max_width", "cache_dir", "templates_dir",
        "require_words",
    ),
    "email": (
        "enabled", "smtp_host", "smtp_port", "security", "username", "password_env",
        "from_address", "confirm_ttl", "timeout",
    ),
    "webhooks": ("allow_private", "max_failures", "timeout"),
    "delivery": (
        "max_attempts", "lease", "retry_base", "retry_max", "concurrency", "subscribe_per_hour",
    ),
    "apprise": ("urls", "notify_candidates"),
    "fetch": (
        "connect_timeout", "read_timeout", "request_deadline", "max_body_bytes", "per_host",
        "max_redirects", "backoff_base", "backoff_max",
    ),
    "security": ("image_hosts",),
    "editor": (
        "session_idle", "session_max", "login_max_failures", "login_lockout", "setup_link_ttl",
    ),
    "curate": CURATE_KEYS,
    "retention": RETENTION_KEYS,
}  # fmt: skip
SOURCE_KEYS = (
    "name", "kind", "url", "interval", "jitter", "enabled", "category", "keywords", "exclude",
    "queries", "mission", "page_size", "max_pages",
)  # fmt: skip
# Keys that belong to one kind of source: (key, its kind, what to set it to).
KIND_KEYS = (
    ("category", "raw_images", "mars2020 or ingenuity"),
    ("queries", "image_library", 'e.g. ["Perseverance"]'),
)
DEFAULT_CONTACT = "https://github.com/watcher-project/watcher"
DEFAULT_IMAGE_HOSTS = ("nasa.gov", "*.nasa.gov")


@dataclass(frozen=True, slots=True)
class Section:
    """One table of the document and its dotted name (``""`` for the top), so a reader asks
    for ``"timeout"`` and a problem is reported as ``email.timeout`` in the right file."""

    file: str
    name: str
    values: Mapping[str, Any]

    @classmethod
    def of(cls, file: str, name: str, value: object, allowed: tuple[str, ...]) -> Section:
        """The table at ``name``; an unknown key fails here, with the nearest allowed one."""
        if not isinstance(value, Mapping):
            raise ConfigError("expected a table", path=file, key=name or "<top>")
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                )
                raise ConfigError(f"unknown key{hint}", path=file, key=cls.dotted(name, key))
        return cls(file, name, value)

    @staticmethod
    def dotted(name: str, key: str) -> str:
        return f"{name}.{key}" if name else key

    def table(self, key: str, allowed: tuple[str, ...]) -> Section:
        """A nested table; a missing one reads as empty, so every key takes its default."""
        return Section.of(self.file, self.dotted(self.name, key), self.values.get(key, {}), allowed)

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.file, key=self.dotted(self.name, key))

    def require(self, key: str, check: Callable[[Any], T]) -> T:
        if key not in self.values:
            raise self.error(key, "is required")
        try:
            return check(self.values[key])
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def get(self, key: str, check: Callable[[Any], T], default: T) -> T:
        if key not in self.values:
            return default
        return self.require(key, check)

    def not_shorter(self, key: str, value: float, floor_key: str, floor: float) -> None:
        """Two durations that only make sense in order: a cap and what it caps."""
        if value < floor:
            raise self.error(key, f"must not be shorter than {self.dotted(self.name, floor_key)}")


def read_settings(data: Mapping[str, Any], *, path: Path | None = None) -> Settings:
    """Validate a parsed TOML document. Raises ConfigError naming the file and key.

    Every table's keys are checked first, then the sections are read in a fixed order, so a
    file with several mistakes always gets the same one reported."""
    top = Section.of(str(path) if path else "<config>", "", data, TOP_LEVEL)
    tables = {name: top.table(name, keys) for name, keys in SECTION_KEYS.items()}
    editor = read_editor(tables["editor"])
    contact, log_level, log_format = read_service(tables["service"])
    fetch = read_fetch(tables["fetch"], contact)
    sources = read_sources(top)
    store_url, auto_upgrade = read_database(tables["database"])
    host, port, public_url = read_server(tables["server"])
    metrics_allow, metrics_public = read_metrics_access(tables["server"])
    site_dir, publish = read_publish(tables["publish"])
    email = read_email(tables["email"])
    return Settings(
        path=path,
        database_url=store_url,
        auto_upgrade=auto_upgrade,
        host=host,
        port=port,
        public_url=public_url,
        trusted_proxies=tables["server"].get("trusted_proxies", network_tuple, ()),
        site_dir=site_dir,
        publish=publish,
        email=email,
        webhooks=read_webhooks(tables["webhooks"]),
        delivery=read_delivery(tables["delivery"]),
        apprise=read_apprise(tables["apprise"]),
        curate=read_curate(tables["curate"]),
        retention=read_retention(tables["retention"], email.confirm_ttl),
        log_level=log_level,
        fetch=fetch,
        image_hosts=read_security(tables["security"]),
        sources=sources,
        metrics_allow=metrics_allow,
        metrics_public=metrics_public,
        log_format=log_format,
        editor=editor,
    )


def read_service(section: Section) -> tuple[str, str, str]:
    """[service]: the contact URL sent in the User-Agent, the log level and format."""
    return (
        section.get("contact", check_url, DEFAULT_CONTACT),
        section.get("log_level", choice(LOG_LEVELS, upper=True), "INFO"),
        section.get("log_format", choice(LOG_FORMATS), "text"),
    )


def read_database(section: Section) -> tuple[str, bool]:
    """[database]: where the store lives, and whether start-up upgrades its schema."""
    return (
        section.get("url", database_url, DEFAULT_DATABASE_URL),
        section.get("auto_upgrade", boolean, True),
    )


def read_server(section: Section) -> tuple[str, int, str | None]:
    """[server]: where the web app listens, and the URL readers reach it by."""
    return (
        section.get("host", nonempty_str, "127.0.0.1"),
        section.get("port", int_range(0, 65535), 8000),
        section.get("public_url", check_url, None),
    )


def read_metrics_access(
    section: Section,
) -> tuple[tuple[IPv4Network | IPv6Network, ...], bool]:
    """[server] metrics_allow and metrics_public: who may read /metrics besides loopback."""
    return (
        section.get("metrics_allow", network_tuple, ()),
        section.get("metrics_public", boolean, False),
    )


def read_fetch(section: Section, contact: str) -> FetchConfig:
    """[fetch]: how politely sources are fetched; backoff may not cap below its start, nor
    a request's deadline below the time it may take to connect."""
    default = FetchConfig(contact)
    fetch = FetchConfig(
        contact=contact,
        connect_timeout=section.get("connect_timeout", parse_duration, default.connect_timeout),
        read_timeout=section.get("read_timeout", parse_duration, default.read_timeout),
        request_deadline=section.get("request_deadline", parse_duration, default.request_deadline),
        max_body_bytes=section.get(
            "max_body_bytes", int_range(1024, 2**31), default.max_body_bytes
        ),
        per_host=section.get("per_host", int_range(1, 16), default.per_host),
        max_redirects=section.get("max_redirects", int_range(0, 20), default.max_redirects),
        backoff_base=section.get("backoff_base", parse_duration, default.backoff_base),
        backoff_max=section.get("backoff_max", parse_duration, default.backoff_max),
    )
    section.not_shorter("backoff_max", fetch.backoff_max, "backoff_base", fetch.backoff_base)
    section.not_shorter(
        "request_deadline", fetch.request_deadline, "connect_timeout", fetch.connect_timeout
    )
    return fetch


def read_security(section: Section) -> tuple[str, ...]:
    """[security]: the hosts images may be fetched from."""
    return section.get("image_hosts", host_tuple, DEFAULT_IMAGE_HOSTS)


def read_publish(section: Section) -> tuple[Path, PublishConfig]:
    """[publish]: where the site is written (a Settings field) and how the list is made."""
    site_dir = section.get("site_dir", directory, Path("var/site"))
    default = PublishConfig()
    return site_dir, PublishConfig(
        title=section.get("title", nonempty_str, default.title),
        # Not the dataclass's "": a configured list starts with the shipped introduction.
        intro=section.get("intro", nonempty_str, DEFAULT_INTRO),
        debounce=section.get("debounce", duration_or_zero, default.debounce),
        feed_items=section.get("feed_items", int_range(1, 1000), default.feed_items),
        websub_hubs=section.get("websub_hubs", url_tuple, default.websub_hubs),
        animation_max_frames=section.get(
            "animation_max_frames", int_range(2, 500), default.animation_max_frames
        ),
        animation_max_width=section.get(
            "animation_max_width", int_range(64, 4000), default.animation_max_width
        ),
        cache_dir=section.get("cache_dir", directory, default.cache_dir),
        templates_dir=section.get("templates_dir", templates_dir, default.templates_dir),
        require_words=section.get("require_words", boolean, default.require_words),
    )


def read_email(section: Section) -> EmailConfig:
    """[email]: the SMTP server subscribers' mail goes through."""
    default = EmailConfig()
    return EmailConfig(
        enabled=section.get("enabled", boolean, default.enabled),
        smtp_host=section.get("smtp_host", nonempty_str, default.smtp_host),
        smtp_port=section.get("smtp_port", int_range(1, 65535), default.smtp_port),
        security=section.get("security", choice(("starttls", "tls", "none")), default.security),
        username=section.get("username", nonempty_str, default.username),
        password_env=section.get("password_env", nonempty_str, default.password_env),
        from_address=section.get("from_address", email_address, default.from_address),
        confirm_ttl=section.get("confirm_ttl", parse_duration, default.confirm_ttl),
        timeout=section.get("timeout", parse_duration, default.timeout),
    )


def read_delivery(section: Section) -> DeliveryConfig:
    """[delivery]: the outbox worker's retries, lease and pace."""
    default = DeliveryConfig()
    return DeliveryConfig(
        max_attempts=section.get("max_attempts", int_range(1, 100), default.max_attempts),
        lease=section.get("lease", parse_duration, default.lease),
        retry_base=section.get("retry_base", parse_duration, default.retry_base),
        retry_max=section.get("retry_max", parse_duration, default.retry_max),
        concurrency=section.get("concurrency", int_range(1, 64), default.concurrency),
        subscribe_per_hour=section.get(
            "subscribe_per_hour", int_range(1, 10_000), default.subscribe_per_hour
        ),
    )


def read_webhooks(section: Section) -> WebhookConfig:
    """[webhooks]: which addresses hooks may reach, and when a failing one is switched off."""
    default = WebhookConfig()
    return WebhookConfig(
        allow_private=section.get("allow_private", boolean, default.allow_private),
        max_failures=section.get("max_failures", int_range(1, 1000), default.max_failures),
        timeout=section.get("timeout", parse_duration, default.timeout),
    )


def read_apprise(section: Section) -> AppriseConfig:
    """[apprise]: the team's notification URLs."""
    default = AppriseConfig()
    return AppriseConfig(
        urls=section.get("urls", str_tuple, default.urls),
        notify_candidates=section.get("notify_candidates", boolean, default.notify_candidates),
    )


def read_editor(section: Section) -> EditorConfig:
    """[editor]: sign-in and sessions; a session may not end before it can idle out."""
    default = EditorConfig()
    editor = EditorConfig(
        session_idle=section.get("session_idle", parse_duration, default.session_idle),
        session_max=section.get("session_max", parse_duration, default.session_max),
        login_max_failures=section.get(
            "login_max_failures", int_range(1, 1000), default.login_max_failures
        ),
        login_lockout=section.get("login_lockout", parse_duration, default.login_lockout),
        setup_link_ttl=section.get("setup_link_ttl", parse_duration, default.setup_link_ttl),
    )
    section.not_shorter("session_max", editor.session_max, "session_idle", editor.session_idle)
    return editor


def read_sources(top: Section) -> tuple[SourceConfig, ...]:
    """[[sources]]: each source, under a name no other source has (its rows are keyed by it)."""
    items = top.values.get("sources", [])
    if not isinstance(items, list):
        raise top.error("sources", "expected an array of tables ([[sources]])")
    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(items):
        source = read_source(Section.of(top.file, f"sources[{index}]", raw, SOURCE_KEYS))
        if source.name in seen:
            raise top.error(
                f"sources[{index}].name",
                f"duplicate source name {source.name!r} (also sources[{seen[source.name]}])",
            )
        seen[source.name] = index
        sources.append(source)
    return tuple(sources)


def read_source(section: Section) -> SourceConfig:
    """One [[sources]] table; ``category`` and ``queries`` belong to one kind each."""
    name = section.require("name", source_name)
    kind = section.require("kind", choice(SOURCE_KINDS))
    url = section.require("url", check_url)
    interval = section.get("interval", parse_duration, 3600.0)
    source = SourceConfig(
        name=name,
        kind=kind,
        url=url,
        interval=interval,
        jitter=section.get("jitter", duration_or_zero, min(interval * 0.1, 300.0)),
        enabled=section.get("enabled", boolean, True),
        category=section.get("category", choice(RAW_IMAGE_CATEGORIES), None),
        keywords=section.get("keywords", str_tuple, ()),
        exclude=section.get("exclude", str_tuple, ()),
        queries=section.get("queries", str_tuple, ()),
        mission=section.get("mission", nonempty_str, None),
        page_size=section.get("page_size", int_range(1, 100), 100),
        max_pages=section.get("max_pages", int_range(1, 100_000), 100),
    )
    for key, owner, hint in KIND_KEYS:
        if kind == owner and not getattr(source, key):
            raise section.error(key, f"is required for {owner} ({hint})")
        if kind != owner and key in section.values:
            raise section.error(key, f'applies only to kind = "{owner}"')
    return source
