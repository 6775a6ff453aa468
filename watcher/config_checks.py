"""What a single config value may be: durations, URLs, bounded integers, names, hosts.

Each check takes the raw value from the parsed TOML and returns it typed (or normalised:
stripped, lower-cased, a tuple), or raises ``ValueError`` with a message for the person who
wrote the file. They know nothing of tables or keys: ``watcher.config_reader`` adds the file
and the key when it turns the ValueError into a ConfigError. They live apart from the
readers so ``watcher.config`` can offer ``parse_duration`` and use ``templates_dir`` for the
environment without importing the readers, which import it.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from watcher.limits import MAX_SOURCE
from watcher.template_dirs import folders

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|KiB|MiB|GiB)?\s*$")
_SIZE_UNITS = {"B": 1, "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3, None: 1}
_SIZE_UNITS |= {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
# The longest duration: a hundred years. Any longer is a typo, and past some length a
# timer or a date that far ahead cannot be made (an OverflowError when the service runs).
MAX_DURATION = 36500 * 86400.0
# A source's name: its candidates, poll state and backfills are stored under it.
_SOURCE_NAME = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_SOURCE - 1}}}")


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
    if not math.isfinite(seconds):  # TOML's nan and inf are floats too
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 1h, 1d)")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    if seconds > MAX_DURATION:
        raise ValueError(f"{value!r} is longer than {MAX_DURATION // 86400:.0f}d")
    return seconds


def byte_size(low: int, high: int) -> Callable[[object], int]:
    """A size in bytes within ``low..high``: ``4000000``, ``"4MB"`` (10^6), ``"512KiB"``."""

    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        elif isinstance(value, str) and (match := _SIZE.match(value)):
            size = round(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
        else:
            raise ValueError(f"{value!r} is not a size (use e.g. 4MB, 500kB or 4000000)")
        if not low <= size <= high:
            raise ValueError(f"{value!r} is outside {low:,}..{high:,} bytes")
        return size

    return check


def duration_or_zero(value: object) -> float:
    """Like ``parse_duration``, but zero ("0", "0s", 0) is allowed: no delay."""
    if value == 0 or value == "0":
        return 0.0
    if isinstance(value, str) and (match := _DURATION.match(value)) and float(match[1]) == 0:
        return 0.0
    return parse_duration(value)


def check_url(value: object) -> str:
    """An absolute http(s) URL with a host; raises ValueError."""
    if not isinstance(value, str):
        raise ValueError("expected a URL string")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value.strip()


def choice(options: tuple[str, ...], *, upper: bool = False) -> Callable[[object], str]:
    """One of a fixed set of words; ``upper`` accepts ``info`` for ``INFO`` (log levels)."""

    def check(value: object) -> str:
        text = value.upper() if upper and isinstance(value, str) else value
        if text not in options:
            raise ValueError(f"{value!r} is not one of: {', '.join(options)}")
        return str(text)

    return check


def int_range(low: int, high: int) -> Callable[[object], int]:
    """An integer within ``low..high``; ``true`` is not 1 here, though Python says so."""

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not an integer")
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return check


def boolean(value: object) -> bool:
    """``true`` or ``false`` only, so ``enabled = "no"`` cannot read as switched on."""
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def nonempty_str(value: object) -> str:
    """Text with something in it, stripped: a blank title or host is a mistake."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def directory(value: object) -> Path:
    """Where watcher writes (the site, the cache); it may not exist yet."""
    return Path(nonempty_str(value))


def source_name(value: object) -> str:
    """A name that fits the store's column and reads well in URLs and commands."""
    name = nonempty_str(value)
    if not _SOURCE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r}: use lowercase letters, digits, '-' and '_' (at most {MAX_SOURCE})"
        )
    return name


def str_tuple(value: object) -> tuple[str, ...]:
    """A list of non-empty strings, stripped; a tuple so the frozen settings can hold it."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("expected a list of non-empty strings")
    return tuple(v.strip() for v in value)


def host_tuple(value: object) -> tuple[str, ...]:
    """Host names (``*.example.org`` for a domain's hosts), lower-cased for comparison."""
    hosts = str_tuple(value)
    for host in hosts:
        if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?", host):
            raise ValueError(f"{host!r} is not a host name (wildcards as *.example.org)")
    return tuple(h.lower() for h in hosts)


def network_tuple(value: object) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """IP addresses and networks (``10.0.0.7``, ``10.0.0.0/8``, ``::1``, ``fd00::/8``). An
    address is a network of one; a network with host bits set (``10.0.0.1/8``) is refused
    with the network it probably means, as is a host name (it could change under us)."""
    networks = []
    for entry in str_tuple(value):
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError:
            try:
                meant = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (e.g. 10.0.0.7, 10.0.0.0/8, "
                    "::1): name hosts by address, not by host name"
                ) from None
            raise ValueError(f"{entry!r} has host bits set: write {str(meant)!r}") from None
    return tuple(networks)


def url_tuple(value: object) -> tuple[str, ...]:
    """Absolute http(s) URLs, each checked like ``check_url``."""
    return tuple(check_url(url) for url in str_tuple(value))


def email_address(value: object) -> str:
    """Roughly ``someone@somewhere``: enough to catch a name or a URL typed by mistake."""
    address = nonempty_str(value)
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
        raise ValueError(f"{address!r} is not an email address")
    return address


def templates_dir(value: object) -> Path:
    """An existing folder laid out like the shipped ``templates/`` (``site/index.html``,
    ...). Checked here because a wrong path would otherwise restyle nothing, silently."""
    try:
        path = Path(nonempty_str(value)).expanduser()
    except RuntimeError:  # ``~name`` of no user on this machine
        raise ValueError(f"{value!r}: no such user's home folder") from None
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


def database_url(value: object) -> str:
    """The two databases the store is written and tested for."""
    url = nonempty_str(value)
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise ValueError(f"{url!r}: only sqlite:/// and postgresql:// URLs are supported")
    return url
