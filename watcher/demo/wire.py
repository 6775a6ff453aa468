"""The emulator's HTTP plumbing: a threading server on loopback, keep-alive handlers, and a
``Reply`` written to the socket the way the real servers write theirs.

Nothing here knows NASA's feeds: ``NasaEmulator`` gives the server the function that
answers a request, and ``injection`` writes the broken answers that faults call for.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from watcher.demo.responses import Reply

__all__ = ["EmulatorHTTPServer", "Handler", "write_reply"]

logger = logging.getLogger("watcher.demo")


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread a connection; ``answer`` is called for every GET. Open connections are
    tracked so that stopping can close idle keep-alive ones instead of waiting them out."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], answer: Callable[[Handler], None]) -> None:
        self.answer = answer
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup we neither need nor
        # want (it can hang on a machine without DNS).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        """Shut down every open connection, waking the handlers that wait on one."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real servers
    timeout = 30  # idle keep-alive connections give their thread back
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.answer(self)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("emulator: " + format, *args)


def write_reply(h: Handler, reply: Reply, *, send: int | None = None) -> None:
    """Status, headers and body (only its first ``send`` bytes when given: the
    Content-Length still promises all of it). A 304 has neither type nor length."""
    h.send_response(reply.status)
    if reply.status != 304:
        h.send_header("Content-Type", reply.content_type)
        h.send_header("Content-Length", str(len(reply.body)))
    for key, value in reply.headers:
        h.send_header(key, value)
    h.end_headers()
    if reply.status != 304:
        h.wfile.write(reply.body if send is None else reply.body[:send])
    h.wfile.flush()
