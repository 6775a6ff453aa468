"""Log records as JSON lines (``--log-format json``, ``[service] log_format = "json"``).

For a log shipper (journald's JSON export, Loki, Elasticsearch) that would otherwise have
to parse the text layout: one object per line, whatever the message holds (a traceback,
NASA's text with newlines or quotes), with the same few keys every time.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}``, plus ``exception`` (the traceback's
    text) when the record carries one and ``stack`` when it carries a stack. ``time`` is
    ISO 8601 in UTC to the millisecond, ``Z``-suffixed, whatever the host's time zone."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, str] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            # Formatted once and kept on the record, as logging.Formatter does.
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # ASCII-only: no character in a message (U+2028, NEL) can split the line for a
        # reader that splits on more than "\n".
        return json.dumps(line)
