"""Network faults below HTTP, on loopback: a port nobody listens on, and one that listens but
never lets a connection in (a connect timeout without leaving the machine).

The emulator (``watcher.demo``) injects the faults that need an answer; these two need the
absence of one, so they stand on the emulator's own port while it is stopped, and the
emulator starts again on that port when the fault clears.
"""

from __future__ import annotations

import contextlib
import socket
import time
from types import TracebackType

FILLERS = 4


class BlackHole:
    """A socket listening on ``127.0.0.1:port`` whose accept queue is full, so a further
    connection attempt gets no SYN-ACK and times out.

    ``listen(0)`` leaves room for one connection the server never accepts; the fillers take
    it (and the kernel drops the SYNs of the rest, fillers included). Closing the listener
    resets them all, and the port is free again.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self._listener: socket.socket | None = None
        self._fillers: list[socket.socket] = []

    def __enter__(self) -> BlackHole:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(0)
        self._listener = listener
        for _ in range(FILLERS):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)
        time.sleep(0.05)  # the first filler's handshake completes and fills the queue
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for sock in [*self._fillers, *([self._listener] if self._listener else [])]:
            with contextlib.suppress(OSError):
                sock.close()
        self._fillers, self._listener = [], None
