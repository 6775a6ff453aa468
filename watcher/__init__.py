"""watcher: watches NASA's Mars image feeds and queues new images for editors."""

from __future__ import annotations

__version__ = "0.1.0"
