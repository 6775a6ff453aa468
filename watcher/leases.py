"""Taking a named lease (one poller per source, one publisher), for every part alike.

A lease is taken when free, expired or already ours; one held by a process of this host
that has exited is taken over at once rather than after it lapses.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from typing import Protocol

log = logging.getLogger("watcher.leases")


class LeaseKeeper(Protocol):
    """What holding a lease needs of the store (the poller's and the publisher's store
    Protocols take it in whole)."""

    def take_lease(
        self, name: str, owner: str, now: datetime, until: datetime, *, take_from: str | None = None
    ) -> bool: ...

    def lease_holder(self, name: str, now: datetime) -> str | None: ...

    def drop_lease(self, name: str, owner: str) -> None: ...


def new_owner() -> str:
    """``host:pid:token``: who holds a lease, precise enough to tell a dead holder here."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def take(store: LeaseKeeper, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Hold ``name`` until ``until``; False while another live holder has it."""
    if store.take_lease(name, owner, now, until, take_from=None):
        return True
    holder = store.lease_holder(name, now)
    if holder and owner_is_dead(holder):
        log.info("%s: taking over the lease of %s, which is gone", name, holder)
        return store.take_lease(name, owner, now, until, take_from=holder)
    return False


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` (``host:pid:token``) was a process on this host that has exited."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
