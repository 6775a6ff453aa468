"""Who wants to hear that the running list changed: the service's publisher, so it
publishes soon after an editor's decision instead of at its next look at the audit log."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("watcher.changes")


class Changes:
    """Listeners called, from any thread, after every committed change to the list."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not undo a committed change
                log.exception("change listener failed")
