"""Frame sequences as an animated WebP with a GIF fallback (Pillow).

``animation_key`` hashes what the result depends on (the frame URLs in time order and the
caps), so an unchanged sequence is built once and then read from the cache directory at
every later publish, without a single request. Building is pure (bytes in, bytes out);
the facade fetches the frames through the Fetcher and hands them over.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
from PIL import Image

from watcher.publish.model import Animation
from watcher.types import Frame, PublishedEntry

FRAME_MS = 300  # about three frames a second: slow enough to follow a dust devil
KEY_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def frame_url(frame: Frame) -> str | None:
    """The rendition an animation is built from: the smallest one close to page width."""
    return frame.medium_url or frame.large_url or frame.full_url or frame.thumbnail_url


def sequence(entry: PublishedEntry, max_frames: int) -> list[str]:
    """The URLs of an entry's frames in the order they were taken (frames without a time
    keep the editor's order, after the timed ones), capped at ``max_frames``; empty when
    the entry is not a sequence."""
    if len(entry.frames) < 2:
        return []
    ordered = sorted(
        enumerate(entry.frames),
        key=lambda item: (item[1].taken_at is None, item[1].taken_at or _EPOCH, item[0]),
    )
    urls = [url for _, frame in ordered if (url := frame_url(frame))]
    urls = urls[: max(2, max_frames)]
    return urls if len(urls) >= 2 else []


def animation_key(urls: Sequence[str], max_frames: int, max_width: int) -> str:
    data = orjson.dumps({"v": KEY_VERSION, "urls": list(urls), "f": max_frames, "w": max_width})
    return hashlib.sha256(data).hexdigest()[:32]


def build(key: str, frames: Sequence[bytes], max_width: int) -> Animation:
    """Decode ``frames`` (any format Pillow reads), scale them to the first frame's size
    (at most ``max_width`` wide) and encode both animations. Raises ValueError (or
    Pillow's errors, e.g. a decompression bomb) for data that is not a usable picture."""
    if len(frames) < 2:
        raise ValueError("an animation needs at least two frames")
    images = []
    size: tuple[int, int] | None = None
    for data in frames:
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
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
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"width": animation.width, "height": animation.height, "frames": animation.frames}
    for suffix, data in (
        ("webp", animation.webp),
        ("gif", animation.gif),
        ("json", orjson.dumps(meta)),
    ):
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, folder / f"{animation.key}.{suffix}")
