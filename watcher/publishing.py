"""The facade's publishing part: editions of the running list, and the site's files."""

from __future__ import annotations

from watcher.facade import FacadeBase


class Publishing(FacadeBase):
    """Publish editions, keep ``site_dir`` in step with the latest one, export the site."""
