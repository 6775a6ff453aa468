"""Who holds a named lease: the values the lease store records and the busy reports show.

A lease names the process that holds it (host name, pid and a start token), not only an
opaque owner, so a process on the same host can prove the holder gone (``watcher.leases``)
and an operator told "busy" can see who is busy and until when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReplicaRole(StrEnum):
    """What one ``watcher run`` replica does (``--role``): ``web`` serves HTTP and keeps
    its own site_dir on the latest edition; ``worker`` polls, publishes, delivers and
    curates, serving only /healthz and /metrics; ``all`` does both. Replicas of every role share the
    work through the database (leases, claims), never through each other."""

    ALL = "all"
    WEB = "web"
    WORKER = "worker"


@dataclass(frozen=True, slots=True)
class ProcessId:
    """One running process: ``host`` (its host name), ``pid``, and ``started``, a token
    telling this process from a later one given the same pid (boot id, pid namespace and
    start time, read from ``/proc``; empty where there is no ``/proc``)."""

    host: str
    pid: int
    started: str = ""


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """A lease as stored: ``owner`` (the holder's identity), its process when recorded
    (None for a lease taken before processes were recorded), since when it is held and
    until when (the holder renews ``until`` while it works)."""

    name: str
    owner: str
    process: ProcessId | None
    since: datetime | None
    until: datetime

    @property
    def host(self) -> str | None:
        return self.process.host if self.process else None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None
