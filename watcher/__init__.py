"""watcher: watches NASA's Mars image feeds and queues new images for editors.

The public surface: ``make_watcher(settings)`` and ``Watcher``, ``load_settings``, the
frozen types and the exception tree. Names load on first use, so importing one small
module (``watcher.config``) does not pull in the database and HTTP stacks.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Watcher": "watcher.core",
    "make_watcher": "watcher.core",
    "Settings": "watcher.config",
    "SourceConfig": "watcher.config",
    "load_settings": "watcher.config",
    "Candidate": "watcher.types",
    "CandidateData": "watcher.types",
    "CandidateStatus": "watcher.types",
    "PollState": "watcher.types",
    "PollReport": "watcher.types",
    "SourceHealth": "watcher.types",
    "Backfill": "watcher.types",
    "WatcherError": "watcher.exceptions",
    "ConfigError": "watcher.exceptions",
    "UsageError": "watcher.exceptions",
    "NotFound": "watcher.exceptions",
    "StorageError": "watcher.exceptions",
    "ParseError": "watcher.exceptions",
    "FetchError": "watcher.exceptions",
}

__all__ = [
    "Backfill",
    "Candidate",
    "CandidateData",
    "CandidateStatus",
    "ConfigError",
    "FetchError",
    "NotFound",
    "ParseError",
    "PollReport",
    "PollState",
    "Settings",
    "SourceConfig",
    "SourceHealth",
    "StorageError",
    "UsageError",
    "Watcher",
    "WatcherError",
    "__version__",
    "load_settings",
    "make_watcher",
]

if TYPE_CHECKING:
    from watcher.config import Settings, SourceConfig, load_settings
    from watcher.core import Watcher, make_watcher
    from watcher.exceptions import (
        ConfigError,
        FetchError,
        NotFound,
        ParseError,
        StorageError,
        UsageError,
        WatcherError,
    )
    from watcher.types import (
        Backfill,
        Candidate,
        CandidateData,
        CandidateStatus,
        PollReport,
        PollState,
        SourceHealth,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'watcher' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
