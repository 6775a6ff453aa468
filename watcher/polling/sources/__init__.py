"""Feed adapters and their registry: one ``SourceAdapter`` per ``kind`` of source.

The core builds adapters only through ``make_adapter``; a new feed kind is one module plus
one line in ``ADAPTERS``.
"""

from __future__ import annotations

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError
from watcher.polling.sources.adapter import SourceAdapter
from watcher.polling.sources.common import AdapterBase, infer_mission
from watcher.polling.sources.image_library import ImageLibraryAdapter
from watcher.polling.sources.raw_images import RawImagesAdapter
from watcher.polling.sources.rss import RssAdapter

__all__ = [
    "ADAPTERS",
    "AdapterBase",
    "ImageLibraryAdapter",
    "RawImagesAdapter",
    "RssAdapter",
    "SourceAdapter",
    "infer_mission",
    "make_adapter",
]

ADAPTERS: dict[str, type[AdapterBase]] = {
    adapter.kind: adapter for adapter in (RawImagesAdapter, ImageLibraryAdapter, RssAdapter)
}


def make_adapter(config: SourceConfig, image_hosts: tuple[str, ...]) -> SourceAdapter:
    """The adapter for ``config.kind``; ConfigError when the kind (or its settings) is wrong."""
    adapter = ADAPTERS.get(config.kind)
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(
            f"unknown source kind {config.kind!r} (known: {known})", key=f"{config.name}.kind"
        )
    return adapter(config, image_hosts)
