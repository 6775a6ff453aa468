"""All SQL lives here. ``Store`` returns watcher types, never ORM rows."""

from __future__ import annotations

from watcher.db import migrate
from watcher.db.accounts import AccountStore
from watcher.db.audit import AuditStore
from watcher.db.candidates import CandidateStore
from watcher.db.curation import CurationStore
from watcher.db.decisions import DecisionStore
from watcher.db.delivery import DeliveryStore
from watcher.db.entries import EntryStore
from watcher.db.fingerprints import FingerprintStore
from watcher.db.leases import LeaseStore
from watcher.db.metrics import MetricsStore
from watcher.db.polling import PollingStore
from watcher.db.publishing import PublishingStore
from watcher.db.queue import QueueStore
from watcher.db.retention import RetentionStore
from watcher.db.site_settings import SiteStore
from watcher.db.status import StatusStore
from watcher.exceptions import StorageError


class Store(
    CandidateStore,
    QueueStore,
    PollingStore,
    DecisionStore,
    EntryStore,
    AuditStore,
    AccountStore,
    SiteStore,
    LeaseStore,
    PublishingStore,
    DeliveryStore,
    MetricsStore,
    FingerprintStore,
    CurationStore,
    RetentionStore,
    StatusStore,
):
    """The database, one mixin per domain."""

    def upgrade(self) -> tuple[str | None, str | None]:
        """Migrate to the newest schema; returns (revision before, revision after)."""
        with self._translate():
            return migrate.upgrade(self.engine)

    def schema_revision(self) -> str | None:
        with self.read() as connection:
            return migrate.current_revision(connection)

    def check_schema(self) -> None:
        """Raise StorageError unless the schema is the one this code expects."""
        current, head = self.schema_revision(), migrate.head_revision()
        if current != head:
            raise StorageError(
                f"database schema is at revision {current or 'none'}, this watcher needs "
                f"{head}; run `watcher db upgrade`"
            )


__all__ = ["Store"]
