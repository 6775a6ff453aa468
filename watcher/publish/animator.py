"""Animations of the list's sequences, for a publish or an export: from the cache when an
identical one was built before, else built from the frames fetched through the one HTTP
client (Pillow's work is ``animate``'s, in a worker thread)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from watcher.config import Settings
from watcher.fetch import Fetcher
from watcher.publish import animate
from watcher.publish.model import Animation
from watcher.types import PageRequest, PublishedEntry
from watcher.urls import clean_url

log = logging.getLogger("watcher.publish.animator")


class Animator:
    """Animations for entries that are frame sequences; a failure costs one animation."""

    def __init__(self, settings: Settings, fetcher: Fetcher):
        self.settings = settings
        self.fetcher = fetcher

    async def for_entries(
        self, entries: Sequence[PublishedEntry]
    ) -> tuple[dict[int, Animation], int, int]:
        """Animations for every sequence: from the cache, else built from fetched frames.
        An entry whose frames cannot be had is shown as its still (counted as failed)."""
        config = self.settings.publish
        result: dict[int, Animation] = {}
        built = failed = 0
        for entry in entries:
            urls = animate.sequence(entry, config.animation_max_frames)
            if not urls:
                continue
            key = animate.animation_key(
                urls, config.animation_max_frames, config.animation_max_width
            )
            animation = await asyncio.to_thread(animate.cached, config.cache_dir, key)
            if animation is None:
                animation = await self._build(entry.id, key, urls)
                if animation is None:
                    failed += 1
                    continue
                built += 1
            result[entry.id] = animation
        return result, built, failed

    async def _build(self, entry_id: int, key: str, urls: list[str]) -> Animation | None:
        config = self.settings.publish
        allowed = [clean_url(url, self.settings.image_hosts) for url in urls]
        if any(url is None for url in allowed):
            log.warning(
                "entry %d: a frame is not on an allowed image host; showing the still", entry_id
            )
            return None
        try:
            responses = await asyncio.gather(
                *(self.fetcher.get(PageRequest(url=url)) for url in allowed if url)
            )
            animation = await asyncio.to_thread(
                animate.build, key, [r.body for r in responses], config.animation_max_width
            )
            await asyncio.to_thread(animate.store, config.cache_dir, animation)
        except Exception as exc:  # a bad frame (fetch, decode, bomb) costs the animation only
            log.warning("entry %d: animation failed (%s); showing the still", entry_id, exc)
            return None
        return animation
