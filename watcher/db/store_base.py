"""The store's shared machinery: the engine, transactions, error translation, and how a
refusal (``Conflict``) names the moment of the change it lost to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from watcher.db.engine import WRITE_FLAG, make_engine
from watcher.exceptions import StorageError


class StoreBase:
    """Owns one engine. ``write()`` and ``read()`` are the only ways to a connection."""

    def __init__(self, url: str | Engine):
        self.engine = make_engine(url) if isinstance(url, str) else url

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        with self._translate(), self.engine.connect() as connection:
            connection.info[WRITE_FLAG] = True
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._translate(), self.engine.connect() as connection, connection.begin():
            yield connection

    def ping(self) -> None:
        """Raise StorageError unless the database answers."""
        with self.read() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise  # a constraint said no: the caller knows what that means (a taken name...)
        except OperationalError as exc:
            raise StorageError(f"database unavailable: {_short(exc)}") from exc
        except (DBAPIError, SQLAlchemyError) as exc:
            raise StorageError(f"database error: {_short(exc)}") from exc


def when(moment: datetime | None) -> str:
    """A moment as a refusal names it: "already approved by alice at 2026-11-25 12:00 UTC"."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0][:300]
