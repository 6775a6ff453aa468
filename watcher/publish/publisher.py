"""The facade's publishing part: editions of the running list, and the site's files.

A publish holds the named lease "publish" (one publisher across replicas, renewed while it
works: see ``watcher.leases``), reads the list and the change watermark (the newest audit
id that can alter the list), and compares content digests with what the last edition
published. Nothing changed: no edition, no file touched. Something changed: animations are
built and the new edition's files are rendered and written beside the served ones (not
served yet); then one transaction writes the edition, the published state and the delivery
outbox rows (``enqueue_deliveries``); then the files are swapped in. So a render or a disk
that fails leaves no edition behind that readers never saw (the next publish tries again),
and a crash after the commit leaves the files one edition behind: the next ``publish`` or
``sync_site`` notices from the marker and re-renders (editions are re-made from the
database).

``force`` re-renders and rewrites the files (retrying failed animations whose wait is over) even
when nothing changed, but never makes an edition without a change: subscribers would get an
empty one.

Every replica serving the site keeps its own ``site_dir`` (no shared disk): ``follow_site``
notices an edition made elsewhere and renders it there without the lease. Writers of one
``site_dir`` take its file lock (``site_lock``) instead, publishes included.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from watcher import leases
from watcher.changes import Changes
from watcher.config import Settings
from watcher.csp import content_security_policy
from watcher.exceptions import Conflict, InvalidInput
from watcher.fetch import Fetcher
from watcher.permissions import require_admin
from watcher.plans import EditionPlan, NewDelivery
from watcher.publish import writer
from watcher.publish.animator import Animator
from watcher.publish.cache import SiteBuilder
from watcher.publish.digest import compare, site_digest
from watcher.publish.model import (
    Animation,
    ChangeMark,
    ListDiff,
    PublishReport,
    SiteContent,
    SiteSettings,
    Snapshot,
    SyncReport,
    WriteReport,
)
from watcher.publish.render import render_site
from watcher.publish.site_lock import site_lock
from watcher.publish.status import QuietSource, quiet_notes, source_label
from watcher.publish.store import PublishStore
from watcher.text import text_errors, unify_newlines
from watcher.types import Actor, Edition, PublishedEntry, SourceHealth
from watcher.urls import origin_of

log = logging.getLogger("watcher.publish.publisher")

LEASE = "publish"
MAX_TITLE = 200
MAX_INTRO = 2000


class Audience(Protocol):
    """Who hears of an edition: the delivery part, as the publisher's plan needs it."""

    def edition_deliveries(self, number: int, adds: bool, now: datetime) -> list[NewDelivery]:
        """The outbox rows edition ``number`` owes its receivers."""
        ...


@dataclass(eq=False, repr=False)
class Publisher:
    """Publish editions, keep ``site_dir`` in step with the latest one, export the site."""

    settings: Settings
    store: PublishStore
    fetcher: Fetcher
    _: KW_ONLY
    clock: Callable[[], datetime]
    owner: str
    changes: Changes
    audience: Audience
    health: Callable[[], list[SourceHealth]]
    # Told of every publish's report (None: it raised) and how long it took (seconds).
    observe: Callable[[PublishReport | None, float], None] | None = None
    animator: Animator = field(init=False)
    _builder: SiteBuilder | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.animator = Animator(self.settings, self.fetcher, self.clock)

    # -- settings and reading ---------------------------------------------------------

    def site_settings(self) -> SiteSettings:
        return self._site_settings(self.store.site_text()[0])

    def _site_settings(self, values: Mapping[str, str]) -> SiteSettings:
        at = values.get("site.updated_at")
        return SiteSettings(
            title=values.get("site.title", self.settings.publish.title),
            intro=values.get("site.intro", self.settings.publish.intro),
            updated_by=values.get("site.updated_by"),
            updated_at=datetime.fromisoformat(at) if at else None,
        )

    def update_site_settings(self, actor: Actor, *, title: str, intro: str) -> SiteSettings:
        """Change the list's title and intro (admins only; audited)."""
        require_admin(actor)
        errors = text_errors({"title": title, "intro": intro})  # refused as typed
        title, intro = " ".join(title.split()), unify_newlines(intro).strip()
        if not title:
            errors.setdefault("title", "write a title")
        elif len(title) > MAX_TITLE:
            errors.setdefault("title", f"keep it under {MAX_TITLE} characters")
        if len(intro) > MAX_INTRO:
            errors.setdefault("intro", f"keep it under {MAX_INTRO} characters")
        if errors:
            raise InvalidInput(errors)
        before = self.site_settings()
        self.store.set_site_text(
            title,
            intro,
            {"title": before.title, "intro": before.intro},
            actor.label,
            self.clock(),
        )
        self.changes.notify()
        return self.site_settings()

    def list_editions(self, *, limit: int = 50, before: int | None = None) -> list[Edition]:
        return self.store.list_editions(max(1, min(limit, 500)), before)

    def get_edition(self, number: int) -> Edition:
        return self.store.get_edition(number)

    def published_entries(self) -> list[PublishedEntry]:
        """The list as a publish now would show it."""
        return self.store.published_list()

    def change_mark(self) -> ChangeMark:
        """Cheap: is a change newer than what the last publish examined?"""
        audit_id, at, checked = self.store.change_mark()
        return ChangeMark(audit_id=audit_id, at=at, checked_audit_id=checked)

    def site_edition(self) -> int | None:
        """The edition the files in ``site_dir`` show; None before the first publish."""
        return writer.site_edition(self.settings.site_dir)

    # -- publishing --------------------------------------------------------------------

    async def publish(self, *, force: bool = False) -> PublishReport:
        """Make an edition of whatever changed, and bring the site's files up to it."""
        started = time.perf_counter()
        try:
            report = await self._publish(force)
        except Exception:
            self._observe(None, started)
            raise
        self._observe(report, started)
        return report

    def _observe(self, report: PublishReport | None, started: float) -> None:
        if self.observe is not None:
            self.observe(report, time.perf_counter() - started)

    async def _publish(self, force: bool) -> PublishReport:
        held = await leases.hold(self.store, LEASE, self.owner, self.clock)
        if not isinstance(held, leases.Hold):
            return PublishReport(edition=None, changed=False, busy=True, held_by=held)
        try:
            async with site_lock(self.settings.site_dir):
                return await self._publish_holding_the_lease(force, held)
        finally:
            await held.release()

    async def _publish_holding_the_lease(self, force: bool, held: leases.Hold) -> PublishReport:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        snapshot, settings, stored_site = await asyncio.to_thread(self._snapshot)
        watermark, entries, stored_rows, latest = snapshot
        timings["read"] = _lap(started)
        current, stored, changes = compare(entries, stored_rows)
        new_site = site_digest(settings.title, settings.intro)
        site_changed = stored_site is not None and stored_site != new_site
        timings["diff"] = _lap(started) - timings["read"]
        report = PublishReport(
            edition=None, changed=False, entries=len(entries), audit_id=watermark, timings=timings
        )
        if changes.empty and not site_changed:
            await asyncio.to_thread(self.store.mark_checked, watermark)
            behind = latest is not None and self.site_edition() != latest.number
            if not (force or behind) or latest is None:
                return report
            site, built, failed = await self._write(
                entries, latest, settings, timings, dict(current)
            )
            return replace(report, site=site, animations_built=built, animations_failed=failed)
        if held.lost:  # another publisher has the lease now: it publishes these changes
            return replace(report, busy=True)
        # The new edition's files are written (not yet served) before the edition is
        # committed: a render or a disk that fails leaves no edition readers never saw.
        now, after = self.clock(), latest.number if latest is not None else 0
        staged, built, failed = await self._stage(
            entries, after + 1, now, settings, timings, dict(current)
        )
        if held.lost:  # lost while the files were written: the new holder publishes
            await asyncio.to_thread(writer.discard, staged)
            return replace(report, busy=True)
        began = time.perf_counter()
        try:
            edition, deliveries = await asyncio.to_thread(
                self._commit,
                now=now,
                changes=changes,
                site_changed=site_changed,
                current=current,
                stored={k: (v.digest, v.position) for k, v in stored.items()},
                site=new_site,
                watermark=watermark,
                after=after,
            )
        except Conflict as exc:  # another publisher got there first: try again soon
            await asyncio.to_thread(writer.discard, staged)
            log.warning("publish raced another publisher: %s", exc)
            return replace(report, audit_id=0, busy=True)
        except BaseException:  # cancelled too: no await here
            writer.discard(staged)
            raise
        timings["commit"] = _lap(began)
        # Committed: serving the files is a rename and a symlink swap. Should even that
        # fail, the files are one edition behind, and the next publish (or sync_site at
        # start) re-makes them from the database.
        site = await asyncio.to_thread(writer.swap_site, staged)
        mark = await asyncio.to_thread(self.change_mark)
        timings["total"] = _lap(started)
        log.info("edition %d published (%d entries)", edition.number, edition.entries)
        return replace(
            report,
            edition=edition,
            changed=True,
            deliveries=deliveries,
            site=site,
            animations_built=built,
            animations_failed=failed,
            pending=mark.audit_id > watermark,
        )

    def _commit(
        self,
        *,
        now: datetime,
        changes: ListDiff,
        site_changed: bool,
        current: Sequence[tuple[int, str]],
        stored: Mapping[int, tuple[str, int]],
        site: str,
        watermark: int,
        after: int,
    ) -> tuple[Edition, int]:
        """The edition, the published state and the outbox rows: one plan, one transaction."""
        number = after + 1
        plan = EditionPlan(
            number=number,
            published_at=now,
            added=changes.added,
            changed=changes.changed,
            removed=changes.removed,
            reordered=changes.reordered,
            site_changed=site_changed,
            current=tuple(current),
            stored=stored,
            site_digest=site,
            audit_id=watermark,
            deliveries=tuple(self.audience.edition_deliveries(number, bool(changes.added), now)),
        )
        return self.store.commit_edition(plan)

    async def sync_site(self) -> SyncReport:
        """At start: make the files show the latest edition if they do not (no edition is
        made); ``pending`` when the list has changed since that edition. The files show
        the edition's entries (as they read now): a change made since waits for its own
        edition. Holds the site's file lock, not the ``publish`` lease: a replica renders
        into its own ``site_dir`` whoever publishes."""
        latest = await asyncio.to_thread(self.store.latest_edition)
        if latest is None:
            return SyncReport(edition=0, rendered=False, reason="nothing published yet")
        async with site_lock(self.settings.site_dir):
            snapshot, settings, stored_site = await asyncio.to_thread(self._snapshot)
            _, entries, stored_rows, latest = snapshot
            assert latest is not None
            current, _, changes = compare(entries, stored_rows)
            pending = not changes.empty or (
                stored_site is not None
                and stored_site != site_digest(settings.title, settings.intro)
            )
            shown = self.site_edition()
            if shown == latest.number:
                return SyncReport(
                    edition=latest.number, rendered=False, reason="up to date", pending=pending
                )
            members = [entry for entry in entries if entry.id in stored_rows]
            digests = {k: v for k, v in current if k in stored_rows}
            site, _, _ = await self._write(members, latest, settings, {}, digests)
        reason = "no files yet" if shown is None else f"files showed edition {shown}"
        return SyncReport(
            edition=latest.number, rendered=True, reason=reason, pending=pending, site=site
        )

    async def follow_site(self) -> SyncReport | None:
        """Render the latest edition when ``site_dir`` shows an older one (made by another
        replica); None when it is current. Cheap then: one indexed query and the marker
        file, so a replica can ask every couple of seconds."""
        latest = await asyncio.to_thread(self.store.latest_edition_number)
        if latest is None or self.site_edition() == latest:
            return None
        return await self.sync_site()

    async def export_site(self, directory: Path) -> WriteReport:
        """A static copy of the list as published now, for any web host (or file://)."""
        entries = await asyncio.to_thread(self.store.published_list)
        latest = await asyncio.to_thread(self.store.latest_edition)
        settings = await asyncio.to_thread(self.site_settings)
        animations, _, _ = await self.animator.for_entries(entries)
        notes = await asyncio.to_thread(self._notes, self.clock())
        number, updated = (latest.number, latest.published_at) if latest else (0, self.clock())
        content = self._content(entries, number, updated, settings, animations, notes)
        # The copy is served elsewhere: its sign-up form posts to this watcher's public
        # address, or is left out when none is configured.
        public = content.public_url
        subscribe = f"{public}/subscribe" if public and content.subscribe else None
        target = origin_of(subscribe) if subscribe else None
        policy = content_security_policy(
            self.settings.image_hosts, form_targets=(target,) if target else (), meta=True
        )
        content = replace(content, subscribe=subscribe, policy=policy)
        files = await asyncio.to_thread(render_site, content)
        return await asyncio.to_thread(
            writer.export, files, directory, latest.number if latest else 0
        )

    # -- helpers ---------------------------------------------------------------------

    def _snapshot(self) -> tuple[Snapshot, SiteSettings, str | None]:
        """The list (``publish_snapshot``), the site's settings and its published digest."""
        snapshot = self.store.publish_snapshot()
        values, stored_site = self.store.site_text()
        return snapshot, self._site_settings(values), stored_site

    async def _write(
        self,
        entries: list[PublishedEntry],
        edition: Edition,
        settings: SiteSettings,
        timings: dict[str, float],
        digests: Mapping[int, str],
    ) -> tuple[WriteReport, int, int]:
        """Bring the served files up to ``edition`` (already committed)."""
        staged, built, failed = await self._stage(
            entries, edition.number, edition.published_at, settings, timings, digests
        )
        site = await asyncio.to_thread(writer.swap_site, staged)
        return site, built, failed

    async def _stage(
        self,
        entries: list[PublishedEntry],
        number: int,
        updated: datetime,
        settings: SiteSettings,
        timings: dict[str, float],
        digests: Mapping[int, str],
    ) -> tuple[writer.Staged, int, int]:
        """Edition ``number``'s files, written beside the served ones (see ``writer``)."""
        started = time.perf_counter()
        animations, built, failed = await self.animator.for_entries(entries)
        notes = await asyncio.to_thread(self._notes, self.clock())
        timings["animations"] = _lap(started)
        content = self._content(entries, number, updated, settings, animations, notes)
        content = replace(content, digests=digests)
        staged = await asyncio.to_thread(self._site_builder().stage, content, timings)
        return staged, built, failed

    def _site_builder(self) -> SiteBuilder:
        """Renders and writes the site reusing earlier work (in memory, the pieces kept
        under cache_dir, the current version's files); publishes run one at a time under
        the lease, exports render on their own."""
        if self._builder is None:
            self._builder = SiteBuilder(self.settings.site_dir, self.settings.publish.cache_dir)
        return self._builder

    def _content(
        self,
        entries: list[PublishedEntry],
        number: int,
        updated: datetime,
        settings: SiteSettings,
        animations: Mapping[int, Animation],
        notes: tuple[str, ...],
    ) -> SiteContent:
        """What edition ``number`` (0: none yet) of ``updated`` shows."""
        return SiteContent(
            title=settings.title,
            intro=settings.intro,
            base_url=self.settings.base_url,
            entries=tuple(entries),
            edition=number,
            updated=updated,
            notes=notes,
            animations=animations,
            feed_items=self.settings.publish.feed_items,
            hubs=self.settings.publish.websub_hubs,
            subscribe="/subscribe" if self.settings.email.enabled else None,
            public_url=self.settings.public_url.rstrip("/") if self.settings.public_url else None,
            templates_dir=self.settings.publish.templates_dir,
            policy=content_security_policy(self.settings.image_hosts, meta=True),
        )

    def _notes(self, now: datetime) -> tuple[str, ...]:
        """The status line's notes from source health (reads the database: call it in a
        worker thread)."""
        try:
            healths = self.health()
        except Exception:  # the status line is a courtesy; never fail a publish for it
            log.exception("could not read source health for the status line")
            return ()
        labels = {source.name: source_label(source) for source in self.settings.sources}
        sources = [QuietSource(labels[health.name], health) for health in healths]
        return quiet_notes(sources, now)


def _lap(started: float) -> float:
    return round(time.perf_counter() - started, 6)
