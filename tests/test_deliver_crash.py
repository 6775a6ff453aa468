"""A worker killed (SIGKILL) after the SMTP server accepted a mail but before the row was
marked sent: the next worker resends it after the lease expires, with the same
Message-ID. This is the documented at-least-once guarantee (``watcher.deliver``)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, Clock, build_settings, run
from tests.deliver_support import ADMIN, approve_one, publish_edition, smtp_server
from watcher.core import make_watcher
from watcher.types import DeliveryStatus

# The worker process: the real deliver_pending, with the mark (finish_deliveries) made to
# hang, so the process is certainly between "sent" and "marked" when it is killed.
WORKER = """
import asyncio, sys, time
from datetime import datetime
from tests.conftest import build_settings
from watcher.core import make_watcher
from pathlib import Path

tmp, url, port, now = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
settings = build_settings(tmp, url, [], **{sections})
watcher = make_watcher(settings, clock=lambda: datetime.fromisoformat(now))
watcher.store.finish_deliveries = lambda *a, **k: time.sleep(600)
print("claiming", flush=True)
asyncio.run(watcher.deliver_pending())
"""


def sections(port: int) -> dict[str, Any]:
    return {
        "server": {"public_url": "https://mars.example.org"},
        "email": {"enabled": True, "smtp_port": port, "security": "none", "timeout": "5s"},
        "delivery": {"lease": "60s"},
    }


def test_a_crash_between_send_and_mark_resends_once_with_the_same_message_id(
    tmp_path: Path, database_url: str, clock: Clock
) -> None:
    with smtp_server() as (sink, port):
        settings = build_settings(tmp_path, database_url, [], **sections(port))
        watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
        watcher.prepare_database()
        try:
            watcher.add_subscriber("reader@example.org", ADMIN, confirmed=True)
            publish_edition(watcher, 1, (approve_one(watcher, 1),))
            script = WORKER.format(sections=repr(sections(port)))
            process = subprocess.Popen(
                [sys.executable, "-c", script, str(tmp_path), database_url, str(port),
                 clock().isoformat()],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            try:
                sink.wait_for(1, timeout=30)
                time.sleep(0.5)  # the worker is now stuck in the mark
                assert process.poll() is None, process.communicate()
            finally:
                process.kill()
                process.wait(10)

            [row] = watcher.list_deliveries(edition=1)
            assert row.status is DeliveryStatus.PENDING and row.attempts == 1
            assert run(watcher.deliver_pending()).claimed == 0  # the dead worker's lease holds
            assert watcher.next_delivery_at() == clock() + timedelta(seconds=60)
            clock.advance(61)
            report = run(watcher.deliver_pending())
            assert (report.claimed, report.sent) == (1, 1)
            first, second = sink.messages
            assert first["Message-ID"] == second["Message-ID"] == "<e1-email-s1@mars.example.org>"
            [row] = watcher.list_deliveries(edition=1)
            assert row.status is DeliveryStatus.SENT and row.attempts == 2
            assert run(watcher.deliver_pending()).claimed == 0
            assert sink.count == 2
        finally:
            run(watcher.aclose())
