"""The HTTP face of watcher. For now: ``/healthz``. The editor app and public pages join here."""

from __future__ import annotations

from watcher.web.app import create_app, create_worker_app

__all__ = ["create_app", "create_worker_app"]
