"""The facade's publishing part: editions of the running list, and the site's files.

A publish holds the named lease "publish" (one publisher across replicas), reads the list
and the change watermark (the newest audit id that can alter the list), and compares
content digests with what the last edition published. Nothing changed: no edition, no file
touched. Something changed: one transaction writes the edition, the published state and the
delivery outbox rows (``enqueue_deliveries``); then animations are built, the site is
rendered and swapped in. A crash after the commit leaves the files one edition behind;
the next ``publish`` or ``sync_site`` notices from the marker and re-renders.

``force`` re-renders and rewrites the files (retrying animations that failed) even when
nothing changed, but never makes an edition without a change: subscribers would get an
empty one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from watcher.db.publishing import write_edition
from watcher.exceptions import Conflict, InvalidInput
from watcher.facade import FacadeBase
from watcher.publish import animate, writer
from watcher.publish.cache import SiteBuilder
from watcher.publish.digest import compare, site_digest
from watcher.publish.model import (
    Animation,
    ChangeMark,
    PublishReport,
    SiteContent,
    SiteSettings,
    Snapshot,
    SyncReport,
    WriteReport,
)
from watcher.publish.render import render_site
from watcher.publish.status import QuietSource, quiet_notes, source_label
from watcher.review.desk import require_admin
from watcher.types import Actor, Edition, PageRequest, PublishedEntry
from watcher.urls import clean_url

log = logging.getLogger("watcher.publish.publisher")

LEASE = "publish"
LEASE_SECONDS = 120.0  # a crashed publisher blocks others this long at most
MAX_TITLE = 200
MAX_INTRO = 2000


class Publishing(FacadeBase):
    """Publish editions, keep ``site_dir`` in step with the latest one, export the site."""

    _builder: SiteBuilder | None = None

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
        title, intro = " ".join(title.split()), intro.strip()
        errors = {}
        if not title:
            errors["title"] = "write a title"
        elif len(title) > MAX_TITLE:
            errors["title"] = f"keep it under {MAX_TITLE} characters"
        if len(intro) > MAX_INTRO:
            errors["intro"] = f"keep it under {MAX_INTRO} characters"
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
        self.notify_changed()
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
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if not await self._take_lease():
            return PublishReport(edition=None, changed=False, busy=True)
        try:
            snapshot, settings, stored_site = await self._db(self._snapshot)
            watermark, entries, stored_rows, latest = snapshot
            timings["read"] = _lap(started)
            current, stored, changes = compare(entries, stored_rows)
            new_site = site_digest(settings.title, settings.intro)
            site_changed = stored_site is not None and stored_site != new_site
            timings["diff"] = _lap(started) - timings["read"]
            report = PublishReport(edition=None, changed=False, entries=len(entries))
            if changes.empty and not site_changed:
                await self._db(self.store.mark_checked, watermark)
                behind = latest is not None and self.site_edition() != latest.number
                if not (force or behind) or latest is None:
                    return replace(report, audit_id=watermark, timings=timings)
                site, built, failed = await self._write(
                    entries, latest, settings, timings, dict(current)
                )
                return replace(
                    report,
                    audit_id=watermark,
                    site=site,
                    animations_built=built,
                    animations_failed=failed,
                    timings=timings,
                )
            now = self.clock()
            try:
                edition, deliveries = await self._db(
                    self._commit,
                    now=now,
                    changes=(changes.added, changes.changed, changes.removed, changes.reordered),
                    site_changed=site_changed,
                    current=current,
                    stored={k: (v.digest, v.position) for k, v in stored.items()},
                    site=new_site,
                    watermark=watermark,
                    after=latest.number if latest is not None else 0,
                )
            except Conflict as exc:  # another publisher got there first: try again soon
                log.warning("publish raced another publisher: %s", exc)
                return replace(report, busy=True, timings=timings)
            timings["commit"] = _lap(started) - timings["read"] - timings["diff"]
            site, built, failed = await self._write(
                entries, edition, settings, timings, dict(current)
            )
            mark = await self._db(self.change_mark)
            timings["total"] = _lap(started)
            log.info("edition %d published (%d entries)", edition.number, edition.entries)
            return PublishReport(
                edition=edition,
                changed=True,
                entries=len(entries),
                audit_id=watermark,
                deliveries=deliveries,
                site=site,
                animations_built=built,
                animations_failed=failed,
                timings=timings,
                pending=mark.audit_id > watermark,
            )
        finally:
            await self._db(self.store.drop_lease, LEASE, self.owner)

    def _commit(
        self,
        *,
        now: datetime,
        changes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], bool],
        site_changed: bool,
        current: Sequence[tuple[int, str]],
        stored: Mapping[int, tuple[str, int]],
        site: str,
        watermark: int,
        after: int,
    ) -> tuple[Edition, int]:
        """The edition, the published state and the outbox rows: one transaction."""
        added, changed, removed, reordered = changes
        with self.store.write() as connection:
            edition = write_edition(
                connection,
                now=now,
                added=added,
                changed=changed,
                removed=removed,
                reordered=reordered,
                site_changed=site_changed,
                current=current,
                stored=stored,
                site_digest=site,
                audit_id=watermark,
                after=after,
            )
            deliveries = self.enqueue_deliveries(connection, edition, now)
        self.store.mark_checked(watermark)
        return edition, deliveries

    async def sync_site(self) -> SyncReport:
        """At start: make the files show the latest edition if they do not (no edition is
        made); ``pending`` when the list has changed since that edition."""
        latest = await self._db(self.store.latest_edition)
        if latest is None:
            return SyncReport(edition=0, rendered=False, reason="nothing published yet")
        if not await self._take_lease():
            return SyncReport(edition=latest.number, rendered=False, busy=True)
        try:
            snapshot, settings, stored_site = await self._db(self._snapshot)
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
            site, _, _ = await self._write(entries, latest, settings, {}, dict(current))
            reason = "no files yet" if shown is None else f"files showed edition {shown}"
            return SyncReport(
                edition=latest.number, rendered=True, reason=reason, pending=pending, site=site
            )
        finally:
            await self._db(self.store.drop_lease, LEASE, self.owner)

    async def export_site(self, directory: Path) -> WriteReport:
        """A static copy of the list as published now, for any web host (or file://)."""
        entries = await self._db(self.store.published_list)
        latest = await self._db(self.store.latest_edition)
        settings = await self._db(self.site_settings)
        animations, _, _ = await self._animations(entries)
        notes = await self._db(self._notes, self.clock())
        content = self._content(entries, latest, settings, animations, notes)
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

    async def _take_lease(self) -> bool:
        now = self.clock()
        until = now + timedelta(seconds=LEASE_SECONDS)
        return await self._db(self.store.take_lease, LEASE, self.owner, now, until)

    async def _write(
        self,
        entries: list[PublishedEntry],
        edition: Edition,
        settings: SiteSettings,
        timings: dict[str, float],
        digests: Mapping[int, str],
    ) -> tuple[WriteReport, int, int]:
        started = time.perf_counter()
        animations, built, failed = await self._animations(entries)
        notes = await self._db(self._notes, self.clock())
        timings["animations"] = _lap(started)
        content = self._content(entries, edition, settings, animations, notes)
        content = replace(content, digests=digests)
        site = await asyncio.to_thread(self._site_builder().build, content, timings)
        return site, built, failed

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
        edition: Edition | None,
        settings: SiteSettings,
        animations: Mapping[int, Animation],
        notes: tuple[str, ...],
    ) -> SiteContent:
        return SiteContent(
            title=settings.title,
            intro=settings.intro,
            base_url=self.settings.base_url,
            entries=tuple(entries),
            edition=edition.number if edition else 0,
            updated=edition.published_at if edition else self.clock(),
            notes=notes,
            animations=animations,
            feed_items=self.settings.publish.feed_items,
            hubs=self.settings.publish.websub_hubs,
            subscribe=self.settings.email.enabled,
            templates_dir=self.settings.publish.templates_dir,
        )

    def _notes(self, now: datetime) -> tuple[str, ...]:
        """The status line's notes from source health (reads the database: call through
        ``self._db``)."""
        try:
            healths = self.sources_health(with_counts=False)
        except Exception:  # the status line is a courtesy; never fail a publish for it
            log.exception("could not read source health for the status line")
            return ()
        labels = {source.name: source_label(source) for source in self.settings.sources}
        sources = [QuietSource(labels[health.name], health) for health in healths]
        return quiet_notes(sources, now)

    async def _animations(
        self, entries: Sequence[PublishedEntry]
    ) -> tuple[dict[int, Animation], int, int]:
        """Animations for every sequence: from the cache, else built from fetched frames.
        An entry whose frames cannot be had is shown as its still (counted as failed)."""
        config = self.settings.publish
        result: dict[int, Animation] = {}
        built = failed = 0
        for entry in entries:
            urls = animate.sequence(entry, config.animation_max_frames)
            if not urls:
                continue
            key = animate.animation_key(
                urls, config.animation_max_frames, config.animation_max_width
            )
            animation = await asyncio.to_thread(animate.cached, config.cache_dir, key)
            if animation is None:
                animation = await self._build_animation(entry.id, key, urls)
                if animation is None:
                    failed += 1
                    continue
                built += 1
            result[entry.id] = animation
        return result, built, failed

    async def _build_animation(self, entry_id: int, key: str, urls: list[str]) -> Animation | None:
        config = self.settings.publish
        allowed = [clean_url(url, self.settings.image_hosts) for url in urls]
        if any(url is None for url in allowed):
            log.warning(
                "entry %d: a frame is not on an allowed image host; showing the still", entry_id
            )
            return None
        try:
            responses = await asyncio.gather(
                *(self.fetcher.get(PageRequest(url=url)) for url in allowed if url)
            )
            animation = await asyncio.to_thread(
                animate.build, key, [r.body for r in responses], config.animation_max_width
            )
            await asyncio.to_thread(animate.store, config.cache_dir, animation)
        except Exception as exc:  # a bad frame (fetch, decode, bomb) costs the animation only
            log.warning("entry %d: animation failed (%s); showing the still", entry_id, exc)
            return None
        return animation


def _lap(started: float) -> float:
    return round(time.perf_counter() - started, 6)
