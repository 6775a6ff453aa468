"""One writer of a ``site_dir`` at a time, among the processes of this machine.

Why a file lock and not the ``publish`` lease: the lease says who makes editions across
replicas, but every replica that serves the site renders the current edition into its
*own* ``site_dir`` (replicas need no shared disk), and that must not wait for whoever
happens to be publishing elsewhere. What must never happen is two writers in one
``site_dir`` at once (two processes configured with the same one, or a publish and the
follower of one process), since a version directory is staged, then swapped, then the
older ones pruned. So every write of the site (a publish, ``sync_site``, the follower)
holds ``flock`` on ``.<site_dir name>.lock`` beside it.

``flock`` locks belong to an open file, so two holders in one process exclude each other
as two processes do, and the kernel drops the lock of a process killed with SIGKILL: a
crash never leaves it held. The wait polls with ``LOCK_NB`` instead of blocking a thread,
so a cancelled waiter leaves nothing behind that could take the lock later.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from watcher.exceptions import StorageError

POLL_SECONDS = 0.05


def lock_path(site_dir: Path) -> Path:
    return site_dir.parent / f".{site_dir.name}.lock"


@contextlib.asynccontextmanager
async def site_lock(site_dir: Path) -> AsyncIterator[None]:
    """Hold the site's write lock for the block (waiting for another holder first)."""
    path = lock_path(site_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StorageError(f"could not open the site's lock {path}: {exc}") from exc
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)  # closing the only descriptor of the file releases the lock
