"""Frame sequences as an animated WebP with a GIF fallback (Pillow).

``animation_key`` hashes what the result depends on (the frame URLs in time order and the
caps), so an unchanged sequence is built once and then read from the cache directory at
every later publish, without a single request. Building is pure (bytes in, bytes out);
the facade fetches the frames through the Fetcher and hands them over.

The cache (``cache_dir/animations/``) holds ``<key>.webp``, ``<key>.gif`` and
``<key>.json`` (size and frame count) for each animation made, and ``<key>.failed.json``
for a key whose last attempt failed (why, when, when to try again): the editor's entry
page reads both, so it can show the animation or say why there is none.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import orjson
from PIL import Image, UnidentifiedImageError

from watcher.cache_layout import failure_path
from watcher.files import write_atomic
from watcher.publish.model import Animation, AnimationFailure, AnimationState, AnimationStatus
from watcher.types import Frame, PublishedEntry

FRAME_MS = 300  # about three frames a second: slow enough to follow a dust devil
KEY_VERSION = 1
_FILE = re.compile(r"([0-9a-f]{32})\.(webp|gif)")


class SequenceFrame(NamedTuple):
    """One frame of an animation: its place in the editor's order (1 is the still), its
    candidate and the URL it is built from."""

    number: int
    candidate_id: int
    url: str


class FrameError(ValueError):
    """Frame ``index`` (of the frames handed to ``build``) is not a usable picture."""

    def __init__(self, index: int, problem: str):
        self.index = index
        self.problem = problem
        super().__init__(f"frame {index + 1} {problem}")


def frame_url(frame: Frame) -> str | None:
    """The rendition an animation is built from: the smallest one close to page width."""
    return frame.medium_url or frame.large_url or frame.full_url or frame.thumbnail_url


def sequence_frames(entry: PublishedEntry, max_frames: int) -> list[SequenceFrame]:
    """An entry's frames in the editor's order (the queue groups them by taken time unless
    the editor chose the order clicked, and the entry page reorders them), capped at
    ``max_frames``; empty when the entry is not a sequence. The order is the editor's to
    make: a sequence may be reversed or looped back on purpose."""
    if len(entry.frames) < 2:
        return []
    frames = [
        SequenceFrame(index + 1, frame.candidate_id, url)
        for index, frame in enumerate(entry.frames)
        if (url := frame_url(frame))
    ]
    frames = frames[: max(2, max_frames)]
    return frames if len(frames) >= 2 else []


def sequence(entry: PublishedEntry, max_frames: int) -> list[str]:
    """The URLs of ``sequence_frames``, in that order."""
    return [frame.url for frame in sequence_frames(entry, max_frames)]


def animation_key(urls: Sequence[str], max_frames: int, max_width: int) -> str:
    data = orjson.dumps({"v": KEY_VERSION, "urls": list(urls), "f": max_frames, "w": max_width})
    return hashlib.sha256(data).hexdigest()[:32]


def build(key: str, frames: Sequence[bytes], max_width: int) -> Animation:
    """Decode ``frames`` (any format Pillow reads), scale them to the first frame's size
    (at most ``max_width`` wide) and encode both animations. Raises FrameError naming the
    first frame that is not a usable picture (not one at all, cut short, a decompression
    bomb), ValueError for fewer than two frames."""
    if len(frames) < 2:
        raise ValueError("an animation needs at least two frames")
    images = []
    size: tuple[int, int] | None = None
    for index, data in enumerate(frames):
        image = _decoded(index, data)
        if size is None:
            width, height = image.size
            if width > max_width:
                height, width = max(1, round(height * max_width / width)), max_width
            size = (width, height)
        if image.size != size:
            image = image.resize(size, Image.Resampling.LANCZOS)
        images.append(image)
    assert size is not None
    webp, gif = io.BytesIO(), io.BytesIO()
    images[0].save(
        webp,
        "WEBP",
        save_all=True,
        append_images=images[1:],
        duration=FRAME_MS,
        loop=0,
        quality=80,
        method=4,
    )
    paletted = [image.convert("P", palette=Image.Palette.ADAPTIVE) for image in images]
    paletted[0].save(
        gif,
        "GIF",
        save_all=True,
        append_images=paletted[1:],
        duration=FRAME_MS,
        loop=0,
        disposal=1,
    )
    return Animation(
        key=key,
        webp=webp.getvalue(),
        gif=gif.getvalue(),
        width=size[0],
        height=size[1],
        frames=len(images),
    )


def _decoded(index: int, data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGB")
    except UnidentifiedImageError as exc:
        raise FrameError(index, "is not a picture") from exc
    except Image.DecompressionBombError as exc:
        raise FrameError(index, "is too large a picture to decode") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise FrameError(index, f"could not be decoded ({exc})") from exc


def cached(cache_dir: Path, key: str) -> Animation | None:
    """The animation built earlier under ``key``, or None (missing or unreadable)."""
    folder = cache_dir / "animations"
    try:
        meta = orjson.loads((folder / f"{key}.json").read_bytes())
        return Animation(
            key=key,
            webp=(folder / f"{key}.webp").read_bytes(),
            gif=(folder / f"{key}.gif").read_bytes(),
            width=int(meta["width"]),
            height=int(meta["height"]),
            frames=int(meta["frames"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(cache_dir: Path, animation: Animation) -> None:
    """Keep ``animation`` in the cache; the metadata file is written last, so a crash
    leaves either a complete entry or one ``cached`` ignores."""
    folder = cache_dir / "animations"
    meta = {"width": animation.width, "height": animation.height, "frames": animation.frames}
    for suffix, data in (
        ("webp", animation.webp),
        ("gif", animation.gif),
        ("json", orjson.dumps(meta)),
    ):
        _write(folder, f"{animation.key}.{suffix}", data)


def _write(folder: Path, name: str, data: bytes) -> None:
    """``folder/name`` holds ``data`` or what it held before, never a part (temp + rename)."""
    write_atomic(folder / name, data)


def made(cache_dir: Path, key: str) -> tuple[int, int, int] | None:
    """(width, height, frames) of the animation cached under ``key``, or None; reads the
    small metadata file alone (written last, so it stands for a complete animation)."""
    try:
        meta = orjson.loads((cache_dir / "animations" / f"{key}.json").read_bytes())
        return int(meta["width"]), int(meta["height"]), int(meta["frames"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cached_file(cache_dir: Path, name: str) -> bytes | None:
    """The bytes of ``<key>.webp`` or ``<key>.gif`` from the cache; None for any other name
    (nothing outside the cache's animations is ever read) or a missing file."""
    if not _FILE.fullmatch(name):
        return None
    try:
        return (cache_dir / "animations" / name).read_bytes()
    except OSError:
        return None


def record_failure(cache_dir: Path, key: str, failure: AnimationFailure) -> None:
    """Remember why the animation ``key`` could not be made (replacing an earlier record)."""
    data = {
        "reason": failure.reason,
        "frame": failure.frame,
        "at": failure.at.isoformat(),
        "attempts": failure.attempts,
        "retry_at": failure.retry_at.isoformat(),
    }
    write_atomic(failure_path(cache_dir, key), orjson.dumps(data))


def failure(cache_dir: Path, key: str) -> AnimationFailure | None:
    """The recorded failure of ``key``'s last attempt, or None (none, or unreadable)."""
    try:
        data = orjson.loads(failure_path(cache_dir, key).read_bytes())
        frame = data["frame"]
        return AnimationFailure(
            reason=str(data["reason"]),
            frame=None if frame is None else int(frame),
            at=datetime.fromisoformat(data["at"]),
            attempts=int(data["attempts"]),
            retry_at=datetime.fromisoformat(data["retry_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_failure(cache_dir: Path, key: str) -> None:
    failure_path(cache_dir, key).unlink(missing_ok=True)


def state(cache_dir: Path, entry_id: int, key: str, frames: int) -> AnimationState:
    """Where the animation ``key`` stands: made, failed (and why), or not made yet."""
    size = made(cache_dir, key)
    if size is not None:
        width, height, count = size
        return AnimationState(
            entry_id=entry_id,
            status=AnimationStatus.READY,
            key=key,
            frames=count,
            width=width,
            height=height,
        )
    failed = failure(cache_dir, key)
    status = AnimationStatus.PENDING if failed is None else AnimationStatus.FAILED
    return AnimationState(entry_id=entry_id, status=status, key=key, frames=frames, failure=failed)
