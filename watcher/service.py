"""``watcher run``: the scheduler (one APScheduler job per source), the web app, the
publisher, the delivery worker, curation and pruning (``watcher.background``), in one
event loop. A replica's ``ReplicaRole`` picks a part: ``web`` serves HTTP and keeps its
own ``site_dir`` on the latest edition (``watcher.follower``), ``worker`` polls,
publishes, delivers, curates and prunes, serving only ``/healthz`` and ``/metrics``,
``all`` (the default) does both.
SIGTERM or SIGINT stops it cleanly: polls finish the page in hand (each page is one
transaction), deliveries in flight finish or are left to their lease, curation stops
between pictures, then the server and the database close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.background import Curation, DeliveryWorker, Pruning, Publisher
from watcher.core import Watcher
from watcher.exceptions import ServiceError, StorageError
from watcher.follower import SiteFollower
from watcher.types import ReplicaRole
from watcher.web import create_app, create_worker_app

log = logging.getLogger("watcher.service")

STOP_GRACE_SECONDS = 10.0
FIRST_POLL_STAGGER_SECONDS = 2.0


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: the service owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Service:
    def __init__(
        self,
        watcher: Watcher,
        *,
        web: bool = True,
        background: bool = True,
        polls: bool = True,
        site: bool | None = None,
        on_ready: Callable[[Service], None] | None = None,
    ):
        self.watcher = watcher
        self.web = web
        self.background = background
        self.polls = polls
        # Serve the site, editor and API (and follow editions); else only /healthz, /metrics.
        self.site = web if site is None else site
        self.follower = SiteFollower(watcher)
        self.deliveries = DeliveryWorker(watcher)
        self.publisher = Publisher(
            watcher,
            debounce=watcher.settings.publish.debounce,
            on_edition=self.deliveries.poke,
        )
        curate = watcher.settings.curate
        self.curation = Curation(watcher, interval=curate.interval, batch=curate.batch)
        self.pruning = Pruning(watcher, interval=watcher.settings.retention.interval)
        self._loops: list[asyncio.Task[None]] = []
        self.on_ready = on_ready
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.server: _Server | None = None
        self._stop = asyncio.Event()
        self._running: set[asyncio.Task[object]] = set()
        self.setup_url: str | None = None

    @classmethod
    def for_role(
        cls,
        watcher: Watcher,
        role: ReplicaRole,
        *,
        on_ready: Callable[[Service], None] | None = None,
    ) -> Service:
        """``web``: HTTP and the site follower; ``worker``: polls and the background loops
        (publisher, deliveries, curation, pruning), serving only ``/healthz`` and
        ``/metrics``; ``all``: everything."""
        work = role is not ReplicaRole.WEB
        return cls(
            watcher,
            background=work,
            polls=work,
            site=role is not ReplicaRole.WORKER,
            on_ready=on_ready,
        )

    @property
    def url(self) -> str:
        settings = self.watcher.settings
        port = settings.port
        if self.server is not None and self.server.servers:
            sockets = self.server.servers[0].sockets
            if sockets:
                port = sockets[0].getsockname()[1]
        return f"http://{settings.host}:{port}"

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        await asyncio.to_thread(self.watcher.prepare_database)
        if self.polls:
            self._schedule()
        server_task = await self._start_server()
        if self.background:
            self.watcher.add_change_listener(self.publisher.poke)
            self._loops = [
                asyncio.create_task(self.publisher.run(self._stop), name="publisher"),
                asyncio.create_task(self.deliveries.run(self._stop), name="deliveries"),
            ]
            if self.watcher.settings.curate.enabled:
                task = asyncio.create_task(self.curation.run(self._stop), name="curation")
                self._loops.append(task)
            if self.watcher.settings.retention.enabled:
                task = asyncio.create_task(self.pruning.run(self._stop), name="pruning")
                self._loops.append(task)
        if self.web and self.site:  # a replica serving the site keeps its site_dir current
            self._loops.append(asyncio.create_task(self.follower.run(self._stop), name="follower"))
            await asyncio.to_thread(self._offer_setup_link)
        self.scheduler.start()
        if self.on_ready:
            self.on_ready(self)
        stop_task = asyncio.create_task(self._stop.wait())
        waiting: set[asyncio.Task[object]] = {stop_task}
        if server_task is not None:
            waiting.add(server_task)
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        try:
            if server_task in done:
                raise ServiceError(
                    f"the web server stopped unexpectedly (is {self.url} already in use?)"
                )
        finally:
            stop_task.cancel()
            await self._shutdown(server_task)

    def _offer_setup_link(self) -> None:
        """While no admin exists, make a one-time link that creates the first one."""
        token = self.watcher.create_setup_link()
        if token is None:
            return
        base = (self.watcher.settings.public_url or self.url).rstrip("/")
        self.setup_url = f"{base}/editor/setup?token={token}"
        minutes = int(self.watcher.settings.editor.setup_link_ttl // 60)
        log.warning(
            "no admin exists yet: create the first one at %s (works once, for %d minutes)",
            self.setup_url,
            minutes,
        )

    def _schedule(self) -> None:
        now = datetime.now(UTC)
        enabled = [s for s in self.watcher.settings.sources if s.enabled]
        for index, source in enumerate(enabled):
            self.scheduler.add_job(
                self._poll,
                IntervalTrigger(seconds=source.interval, jitter=source.jitter or None),
                args=[source.name],
                id=f"poll:{source.name}",
                name=f"poll {source.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=now + timedelta(seconds=index * FIRST_POLL_STAGGER_SECONDS),
            )
        log.info("scheduled %d sources: %s", len(enabled), ", ".join(s.name for s in enabled))

    async def _start_server(self) -> asyncio.Task[object] | None:
        if not self.web:
            return None
        settings = self.watcher.settings
        # Bind here rather than in uvicorn, which exits the process when the port is taken.
        try:
            sock = socket.create_server((settings.host, settings.port), reuse_port=False)
        except OSError as exc:
            raise ServiceError(
                f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
            ) from exc
        config = uvicorn.Config(
            create_app(self.watcher) if self.site else create_worker_app(self.watcher),
            log_config=None,
            access_log=False,
            lifespan="off",
            # Forwarded headers are the app's to judge, against [server] trusted_proxies
            # (watcher.web.proxies); uvicorn's own reading would trust 127.0.0.1.
            proxy_headers=False,
        )
        self.server = _Server(config)
        task: asyncio.Task[object] = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.02)
        if task.done():
            sock.close()
            raise ServiceError(f"the web server did not start on {settings.host}:{settings.port}")
        log.info("serving on %s (health: %s/healthz)", self.url, self.url)
        return task

    async def _poll(self, name: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            report = await self.watcher.poll_source(name)
        except StorageError as exc:
            log.error("%s: database error, will retry at the next poll: %s", name, exc)
            return
        except Exception:
            log.exception("%s: poll crashed; the service carries on", name)
            return
        finally:
            self._running.discard(task)
        if report.deferred_until is not None and not self._stop.is_set():
            self._retry_at(name, report.deferred_until)

    def _retry_at(self, name: str, when: datetime) -> None:
        """After a failure the backoff may end before the next regular poll: poll then."""
        job = self.scheduler.get_job(f"poll:{name}")
        if job is None or job.next_run_time is None or when >= job.next_run_time:
            return
        self.scheduler.add_job(
            self._poll,
            DateTrigger(run_date=when),
            args=[name],
            id=f"retry:{name}",
            name=f"retry {name}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _shutdown(self, server_task: asyncio.Task[object] | None) -> None:
        log.info("stopping: finishing the page in hand")
        self._stop.set()
        self.watcher.request_stop()
        # Paused, not shut down yet: APScheduler's shutdown cancels the polls in flight,
        # which are to finish the page in hand first.
        if self.scheduler.running:
            self.scheduler.pause()
        waiting: set[asyncio.Task[object]] = set(self._running)
        waiting.update(self._loops)
        if waiting:
            _, pending = await asyncio.wait(waiting, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.server is not None and server_task is not None:
            self.server.should_exit = True
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(server_task, timeout=STOP_GRACE_SECONDS)
        log.info("stopped")
