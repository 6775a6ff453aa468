"""Rendered pieces kept from one render to the next: an unchanged entry is not rendered again.

A piece (an entry's article, its permalink page) is stored under a key that holds its
content's digest and everything else it depends on (see ``render.fingerprint``), so a hit
is always right. ``cache.py`` persists the articles across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping


class RenderCache:
    """Pieces rendered before, reused when their key (content digest plus everything else
    a piece depends on) is the same, so a hit is always right.

    Only the pieces used by the latest render are kept (memory stays at one site's
    worth). ``seed`` starts it from a persisted copy (see cache.py); ``added`` holds
    the kinds of piece rendered anew (the caller clears it once it kept them). Not
    thread-safe: one render at a time per cache.
    """

    def __init__(self, seed: Mapping[str, str] | None = None) -> None:
        self._old: dict[str, str] = dict(seed or {})
        self._new: dict[str, str] = {}
        self.added: set[str] = set()  # key prefixes ("a:", "p:") of pieces made since

    def lookup(self, key: str) -> str | None:
        value = self._new.get(key)
        if value is None:
            value = self._old.get(key)
            if value is not None:
                self._new[key] = value
        return value

    def keep(self, key: str, value: str) -> str:
        self._new[key] = value
        self.added.add(key[:2])
        return value

    def rotate(self) -> None:
        self._old, self._new = self._new, {}

    def pieces(self, prefix: str = "") -> dict[str, str]:
        """The pieces of the latest render (after ``rotate``) whose key starts ``prefix``."""
        return {k: v for k, v in self._old.items() if k.startswith(prefix)}
