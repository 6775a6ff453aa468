"""Settings: ``config/watcher.toml`` plus ``WATCHER_*`` environment overrides, validated once.

Validation is strict because a typo in a config file should fail loudly at start-up, not
silently poll nothing: an unknown key, a bad interval, a bad URL or a duplicate source name
raises ``ConfigError`` naming the file and the key (``sources[1].interval``).

This module holds what the settings are (the frozen dataclasses, their defaults) and where
they come from (``load_settings``: the file, then the environment). Reading the parsed
document section by section is ``watcher.config_reader``'s job; what one value may be,
``watcher.config_checks``'s.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any

from watcher.config_checks import check_url, parse_duration, templates_dir
from watcher.exceptions import ConfigError

DEFAULT_CONFIG_PATH = Path("config/watcher.toml")
# What the shipped config (and the demo) keeps of the mixed feeds, the image library and
# nasa.gov's news: Perseverance and Ingenuity material, not other missions or classroom kits.
MISSION_KEYWORDS = ("Perseverance", "Ingenuity", "Mars 2020", "Jezero", "Mars Helicopter")
OFF_TOPIC = ("Pathfinder", "Sojourner", "teachers", "educators", "classroom", "lesson plan")
DEFAULT_DATABASE_URL = "sqlite:///var/watcher.db"
SOURCE_KINDS = ("raw_images", "image_library", "rss")
RAW_IMAGE_CATEGORIES = ("mars2020", "ingenuity")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


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
    request_deadline: float = 30.0  # one request, connect to last byte: a drip cannot hog
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
    site, the web app and the mail alike (see ``watcher.template_dirs``).
    ``require_words``: an entry goes public only with an editor's heading and paragraph, so
    a quick approval (one keypress) makes a draft instead of mailing NASA's raw title."""

    title: str = DEFAULT_TITLE
    intro: str = ""
    debounce: float = 30.0
    feed_items: int = 50
    websub_hubs: tuple[str, ...] = ()
    animation_max_frames: int = 60
    animation_max_width: int = 800
    cache_dir: Path = Path("var/cache")
    templates_dir: Path | None = None
    require_words: bool = True


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
class CurateConfig:
    """Curation: the fingerprinting job (how often, how much, what it may fetch), the
    grouping thresholds and the score's weights (adding up to 100). The grouping and
    scoring rules take the same values as fields of their own parameters."""

    enabled: bool = True
    interval: float = 20.0
    batch: int = 40
    backfilled: bool = False
    retry_after: float = 30 * 60.0
    max_picture_bytes: int = 4_000_000
    similar_distance: int = 10
    similar_window: float = 15 * 60.0
    sequence_gap: float = 3 * 60.0
    sequence_min_frames: int = 4
    sequence_min_change: int = 3
    sequence_max_change: int = 16
    weight_colour: int = 20
    weight_full_frame: int = 5
    weight_detail: int = 10
    weight_colourfulness: int = 10
    weight_novelty: int = 10
    weight_golden_hour: int = 10
    weight_sequence: int = 35


DAY = 86400.0


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long what would otherwise only grow is kept, in seconds (None: for ever), and
    how the service prunes: every ``interval`` when ``enabled`` (one replica at a time, and
    not again on another replica within ``interval``), ``batch`` rows a transaction.

    Only what is past use goes: NASA's record of a rejected or long-unreviewed candidate
    (its row, ids, title and URLs stay, so no poll stores it again), cached pictures no
    entry shows, failed-animation records, sent outbox rows, old audit rows, expired
    sessions, sign-up attempts and subscriptions never confirmed. See ``watcher.retention``.
    """

    enabled: bool = True
    interval: float = DAY
    batch: int = 1000
    rejected_records: float | None = 30 * DAY
    unreviewed_records: float | None = 180 * DAY
    picture_cache: float | None = 30 * DAY
    failed_animations: float | None = 30 * DAY
    sent_deliveries: float | None = 90 * DAY
    audit_log: float | None = 365 * DAY
    subscribe_attempts: float | None = DAY
    unconfirmed_subscribers: float | None = 30 * DAY


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
    # [server] metrics_allow: who may read /metrics besides loopback (addresses and
    # networks); metrics_public: everyone may. [service] log_format: text or json.
    metrics_allow: tuple[IPv4Network | IPv6Network, ...] = ()
    metrics_public: bool = False
    log_format: str = "text"
    editor: EditorConfig = EditorConfig()
    publish: PublishConfig = PublishConfig()
    email: EmailConfig = EmailConfig()
    webhooks: WebhookConfig = WebhookConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    apprise: AppriseConfig = AppriseConfig()
    curate: CurateConfig = CurateConfig()
    # [server] trusted_proxies: the peers whose X-Forwarded-For and X-Forwarded-Proto are
    # believed (watcher.web.proxies); nobody's by default.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    retention: RetentionConfig = RetentionConfig()

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
            folder = templates_dir(env["WATCHER_TEMPLATES_DIR"])
        except ValueError as exc:
            raise ConfigError(str(exc), key="WATCHER_TEMPLATES_DIR") from None
        changes["publish"] = replace(settings.publish, templates_dir=folder)
    return replace(settings, **changes) if changes else settings


def settings_from_dict(data: Mapping[str, Any], *, path: Path | None = None) -> Settings:
    """Validate a parsed TOML document. Raises ConfigError naming the file and key.

    The section readers live in ``watcher.config_reader``; they build this module's
    dataclasses, so it is imported here, when first needed, rather than at the top."""
    from watcher.config_reader import read_settings

    return read_settings(data, path=path)


# check_url and parse_duration (from config_checks) are offered here as well, so code that
# reads a duration or a URL the way the config file does imports them with the settings.
__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_INTRO",
    "DEFAULT_TITLE",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "MISSION_KEYWORDS",
    "OFF_TOPIC",
    "RAW_IMAGE_CATEGORIES",
    "SOURCE_KINDS",
    "AppriseConfig",
    "CurateConfig",
    "DeliveryConfig",
    "EditorConfig",
    "EmailConfig",
    "FetchConfig",
    "PublishConfig",
    "RetentionConfig",
    "Settings",
    "SourceConfig",
    "WebhookConfig",
    "apply_env",
    "check_url",
    "load_settings",
    "parse_duration",
    "settings_from_dict",
]
