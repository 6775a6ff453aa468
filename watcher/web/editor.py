"""The editor app's pages: one router made of a module per area.

- ``pages_queue``: the queue (``/editor``), bulk decisions, undo
- ``pages_candidate``: a candidate's page, approve / reject, the paragraph preview
- ``pages_compare``: two to four candidates side by side
- ``pages_entries``: the running list's entries, and editing one
- ``pages_groups``: a sequence's live preview, and approving it as one animation
- ``pages_admin``: audit log, editors, API tokens (admins), and your own account
- ``pages_publishing``: site title and intro, editions, subscribers, webhooks, delivery
  log (admins)
- ``pages_status``: the Status page's charts: images per sol, polls, deliveries (admins)

Every page needs a signed-in editor; admin pages an admin; every POST the session's CSRF
token (``checked_form``). Routes parse the request, call the ``Watcher``, and render.
"""

from __future__ import annotations

from fastapi import APIRouter

from watcher.web import (
    pages_admin,
    pages_candidate,
    pages_compare,
    pages_entries,
    pages_groups,
    pages_publishing,
    pages_queue,
    pages_status,
)

router = APIRouter(include_in_schema=False)
router.include_router(pages_queue.router)
router.include_router(pages_candidate.router)
router.include_router(pages_compare.router)
router.include_router(pages_entries.router)
router.include_router(pages_groups.router)
router.include_router(pages_admin.router)
router.include_router(pages_publishing.router)
router.include_router(pages_status.router)

__all__ = ["router"]
