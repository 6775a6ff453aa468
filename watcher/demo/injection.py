"""Fault injection: which requests get which ``Fault``, and the broken answers written.

``FaultQueue`` holds what a test ``inject``-s (in injection order, each for a number of
requests or until cleared, optionally only after some matching requests were answered
normally; safe to use from the test while handlers take from it).
``write_fault`` answers instead of the emulator (an error page, a dropped connection, a
redirect loop, a gzip bomb, an oversized body); ``write_damaged`` sends the emulator's own
answer as a wrapping fault damages it (cut short, the connection closed midway, or its body
dripped a byte at a time).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from watcher.demo.faults import Fault, FaultKind
from watcher.demo.responses import Reply, gzip_zeros
from watcher.demo.wire import Handler, write_reply

__all__ = ["FaultQueue", "replaces_answer", "write_damaged", "write_fault"]

_CHUNK = 64 * 1024
# Faults that damage the normal answer rather than replace it (DELAY only postpones it).
_DAMAGING = (FaultKind.TRUNCATE, FaultKind.DISCONNECT, FaultKind.DRIP)


@dataclass(slots=True)
class _Injection:
    fault: Fault
    path_prefix: str
    remaining: int | None  # None: until cleared
    waiting: int  # matching requests still answered normally before the fault starts


class FaultQueue:
    """The injected faults, in injection order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._injections: list[_Injection] = []

    def add(self, fault: Fault, path_prefix: str, times: int | None, after: int = 0) -> None:
        with self._lock:
            self._injections.append(_Injection(fault, path_prefix, times, after))

    def clear(self) -> None:
        with self._lock:
            self._injections.clear()

    def take(self, path: str) -> Fault | None:
        """The first fault for ``path``, used up once (dropped when it has no uses left).

        An injection still ``waiting`` counts the request down and lets it through to the
        injections after it: a fault can start in the middle of a sweep (page 2 of 3)."""
        with self._lock:
            for injection in self._injections:
                if path.startswith(injection.path_prefix):
                    if injection.waiting > 0:
                        injection.waiting -= 1
                        continue
                    if injection.remaining is not None:
                        injection.remaining -= 1
                        if injection.remaining <= 0:
                            self._injections.remove(injection)
                    return injection.fault
        return None


def replaces_answer(fault: Fault) -> bool:
    """Whether ``write_fault`` answers instead of the emulator (else the answer is built
    and ``write_damaged`` sends it)."""
    return fault.kind not in _DAMAGING


def write_damaged(h: Handler, reply: Reply, fault: Fault | None, stopping: threading.Event) -> None:
    """The emulator's answer, cut, broken off or dripped as a damaging ``fault`` says (if
    any); ``stopping`` ends a drip."""
    if fault is not None and fault.kind is FaultKind.DRIP:
        _write_dripping(h, reply, fault.seconds, stopping)
        return
    if fault is not None and fault.kind is FaultKind.TRUNCATE:
        reply.body = reply.body[: int(len(reply.body) * fault.fraction)]
    if fault is not None and fault.kind is FaultKind.DISCONNECT:
        write_reply(h, reply, send=int(len(reply.body) * fault.fraction))
        h.close_connection = True
    else:
        write_reply(h, reply)


def write_fault(h: Handler, fault: Fault, stopping: threading.Event) -> None:
    """The answer a replacing ``fault`` stands for; ``stopping`` ends an endless body."""
    kind = fault.kind
    if kind is FaultKind.DROP:
        h.close_connection = True
    elif kind is FaultKind.REDIRECT_LOOP:
        write_reply(h, Reply(302, b"", "text/plain", [("Location", "/__loop/1")]))
    elif kind is FaultKind.GZIP_BOMB:
        body = gzip_zeros(fault.size)
        write_reply(h, Reply(200, body, "application/json", [("Content-Encoding", "gzip")]))
    elif kind is FaultKind.OVERSIZED:
        _write_oversized(h, fault, stopping)
    else:
        reply = Reply(fault.status, fault.body, "text/plain", [])
        content_type = dict(fault.headers).get("Content-Type")
        reply.content_type = content_type or reply.content_type
        reply.headers = [(k, v) for k, v in fault.headers if k != "Content-Type"]
        if fault.retry_after_in is not None:
            when = formatdate(time.time() + fault.retry_after_in, usegmt=True)
            reply.headers.append(("Retry-After", when))
        write_reply(h, reply)


def _write_dripping(h: Handler, reply: Reply, seconds: float, stopping: threading.Event) -> None:
    """Headers (the whole Content-Length promised) at once, then one byte of the body every
    ``seconds`` until it is all sent, the client gives up, or the emulator stops."""
    write_reply(h, reply, send=0)
    h.close_connection = True
    try:
        for index in range(len(reply.body)):
            if stopping.wait(seconds):
                return
            h.wfile.write(reply.body[index : index + 1])
            h.wfile.flush()
    except OSError:  # the client hung up: what a deadline is for
        return


def _write_oversized(h: Handler, fault: Fault, stopping: threading.Event) -> None:
    """``fault.size`` bytes of filler, streamed in chunks (never held in memory); without
    a Content-Length the body ends when the connection closes."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    if fault.content_length:
        h.send_header("Content-Length", str(fault.size))
    else:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    chunk = b" " * _CHUNK
    left = fault.size
    while left > 0 and not stopping.is_set():
        h.wfile.write(chunk[: min(left, _CHUNK)])
        left -= _CHUNK
    h.close_connection = True
