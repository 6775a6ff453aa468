"""Animations of the list's sequences, for a publish or an export: from the cache when an
identical one was built before, else built from the frames fetched through the one HTTP
client (Pillow's work is ``animate``'s, in a worker thread).

A failed attempt is recorded beside the cache (``animate.record_failure``: which frame,
what went wrong, when), so the editor's entry page can say why an entry shows its still,
and so a busy day's publishes do not fetch the same broken frames again and again: the
same frames are tried again only once a wait is over, 10 minutes after the first failure,
doubling with each failure in a row up to 6 hours. Changing the frames (dropping the
broken one, say) makes another animation, tried at the next publish; a success removes
the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from watcher.config import Settings
from watcher.exceptions import InvalidInput
from watcher.fetch import Fetcher
from watcher.publish import animate
from watcher.publish.animate import SequenceFrame
from watcher.publish.model import Animation, AnimationFailure, AnimationState
from watcher.types import Candidate, PageRequest, PublishedEntry
from watcher.urls import clean_url

log = logging.getLogger("watcher.publish.animator")

FIRST_WAIT = timedelta(minutes=10)
LONGEST_WAIT = timedelta(hours=6)
_URL_CHARS = 160
PREVIEW_FRAMES = 24
PREVIEW_WIDTH = 320


def _utcnow() -> datetime:
    return datetime.now(UTC)


def retry_wait(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure in a row an animation waits."""
    doublings: int = min(max(0, attempts - 1), 16)
    return min(LONGEST_WAIT, FIRST_WAIT * (1 << doublings))


class Failed(Exception):
    """An animation could not be made: ``reason`` in an editor's words, ``frame`` (the
    editor's numbering) when one frame is to blame."""

    def __init__(self, reason: str, frame: int | None = None):
        self.reason = reason
        self.frame = frame
        super().__init__(reason)


def _named(frame: SequenceFrame) -> str:
    url = frame.url if len(frame.url) <= _URL_CHARS else frame.url[: _URL_CHARS - 1] + "…"
    return f"frame {frame.number} (candidate {frame.candidate_id}, {url})"


class Animator:
    """Animations for entries that are frame sequences; a failure costs one animation."""

    def __init__(
        self, settings: Settings, fetcher: Fetcher, clock: Callable[[], datetime] = _utcnow
    ):
        self.settings = settings
        self.fetcher = fetcher
        self.clock = clock

    def _key(self, frames: Sequence[SequenceFrame]) -> str:
        config = self.settings.publish
        urls = [frame.url for frame in frames]
        return animate.animation_key(urls, config.animation_max_frames, config.animation_max_width)

    async def for_entries(
        self, entries: Sequence[PublishedEntry]
    ) -> tuple[dict[int, Animation], int, int]:
        """Animations for every sequence: from the cache, else built from fetched frames.
        An entry whose frames cannot be had, or whose last attempt failed and still waits,
        is shown as its still (counted as failed)."""
        config = self.settings.publish
        result: dict[int, Animation] = {}
        built = failed = 0
        for entry in entries:
            frames = animate.sequence_frames(entry, config.animation_max_frames)
            if not frames:
                continue
            key = self._key(frames)
            animation = await asyncio.to_thread(animate.cached, config.cache_dir, key)
            if animation is None:
                animation = await self._attempt(f"entry {entry.id}", key, frames)
                if animation is None:
                    failed += 1
                    continue
                built += 1
            result[entry.id] = animation
        return result, built, failed

    async def _attempt(
        self, whose: str, key: str, frames: list[SequenceFrame], width: int | None = None
    ) -> Animation | None:
        """Build unless an earlier failure of the same frames still waits; record how it
        went beside the cache."""
        cache_dir = self.settings.publish.cache_dir
        earlier = await asyncio.to_thread(animate.failure, cache_dir, key)
        now = self.clock()
        if earlier is not None and now < earlier.retry_at:
            log.debug("%s: animation waits until %s", whose, earlier.retry_at)
            return None
        try:
            animation = await self._build(key, frames, width)
        except Failed as exc:
            log.warning("%s: animation failed (%s); showing the still", whose, exc)
            attempts = (earlier.attempts if earlier else 0) + 1
            record = AnimationFailure(
                reason=exc.reason,
                frame=exc.frame,
                at=now,
                attempts=attempts,
                retry_at=now + retry_wait(attempts),
            )
            try:
                await asyncio.to_thread(animate.record_failure, cache_dir, key, record)
            except OSError:
                log.exception("%s: could not record why the animation failed", whose)
            return None
        if earlier is not None:
            await asyncio.to_thread(animate.clear_failure, cache_dir, key)
        return animation

    async def preview(self, members: Sequence[Candidate]) -> Animation:
        """A small animation of a sequence's frames in the order given (the queue's side
        panel shows it before anyone approves): their medium renditions, at most
        ``PREVIEW_FRAMES`` of them, ``PREVIEW_WIDTH`` wide, kept in the publisher's cache.
        Raises InvalidInput (``preview``: why) when it cannot be made; a failure is recorded
        and waited on like a publish's, so showing the panel again fetches nothing."""
        frames = [
            SequenceFrame(index + 1, member.id, url)
            for index, member in enumerate(members)
            if (url := member.medium_url or member.thumbnail_url or member.large_url)
        ][:PREVIEW_FRAMES]
        if len(frames) < 2:
            raise InvalidInput({"preview": "fewer than two of its frames have a picture"})
        urls = [frame.url for frame in frames]
        key = animate.animation_key(urls, PREVIEW_FRAMES, PREVIEW_WIDTH)
        cache_dir = self.settings.publish.cache_dir
        found = await asyncio.to_thread(animate.cached, cache_dir, key)
        if found is None:
            found = await self._attempt(f"group {members[0].group_id}", key, frames, PREVIEW_WIDTH)
        if found is None:
            failed = await asyncio.to_thread(animate.failure, cache_dir, key)
            reason = failed.reason if failed else "the animation could not be made"
            raise InvalidInput({"preview": reason})
        return found

    async def _build(
        self, key: str, frames: list[SequenceFrame], width: int | None = None
    ) -> Animation:
        """Fetch, decode, encode and cache; raises Failed naming the first frame (in the
        animation's order) that could not be had."""
        config = self.settings.publish
        urls: list[str] = []  # as checked: what is fetched is what was found allowed
        for frame in frames:
            url = clean_url(frame.url, self.settings.image_hosts)
            if url is None:
                raise Failed(f"{_named(frame)} is not on an allowed image host", frame.number)
            urls.append(url)
        answers = await asyncio.gather(
            *(self.fetcher.get(PageRequest(url=url), party="publish") for url in urls),
            return_exceptions=True,
        )
        bodies: list[bytes] = []
        for frame, answer in zip(frames, answers, strict=True):
            if isinstance(answer, Exception):
                raise Failed(f"{_named(frame)} could not be fetched: {answer}", frame.number)
            if isinstance(answer, BaseException):
                raise answer
            bodies.append(answer.body)
        try:
            animation = await asyncio.to_thread(
                animate.build, key, bodies, width or config.animation_max_width
            )
            await asyncio.to_thread(animate.store, config.cache_dir, animation)
        except animate.FrameError as exc:
            frame = frames[exc.index]
            raise Failed(f"{_named(frame)} {exc.problem}", frame.number) from exc
        except Exception as exc:  # an encoder or disk failure costs the animation only
            raise Failed(f"the animation could not be made: {exc}") from exc
        return animation

    def states(self, entries: Sequence[PublishedEntry]) -> dict[int, AnimationState]:
        """What became of each sequence's animation (entries of one frame have none), read
        from the cache alone: nothing is fetched or built."""
        config = self.settings.publish
        result: dict[int, AnimationState] = {}
        for entry in entries:
            frames = animate.sequence_frames(entry, config.animation_max_frames)
            if frames:
                key = self._key(frames)
                result[entry.id] = animate.state(config.cache_dir, entry.id, key, len(frames))
        return result

    def animation_file(self, name: str) -> bytes | None:
        """``<key>.webp`` or ``<key>.gif`` from the cache (None for anything else)."""
        return animate.cached_file(self.settings.publish.cache_dir, name)
