"""What a log line is about: the campaign, batch and task being worked on, per context.

Celery's signals (workers/log_context.py) set it around each task from the task's id
argument; a service that learns a batch's campaign may add it. Kept in a ``ContextVar`` so a
thread or an asyncio task sees only its own, and each record picks it up in
:class:`ContextFilter`, which the JSON format writes as fields of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType

FIELDS = ("campaign_id", "batch_id", "task")

Context = Mapping[str, int | str]

_current: ContextVar[Context] = ContextVar("dispatcher_log_context", default=MappingProxyType({}))


def current() -> Context:
    return _current.get()


def bind(**fields: int | str | None) -> Token[Context]:
    """Add ``fields`` (None ones are left out) to this context; undo with :func:`reset`."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {', '.join(sorted(unknown))}")
    added = {k: v for k, v in fields.items() if v is not None}
    return _current.set({**_current.get(), **added})


def reset(token: Token[Context]) -> None:
    _current.reset(token)


def add_to_task(**fields: int | str | None) -> None:
    """Add ``fields`` for the rest of the running Celery task (its end undoes them, see
    workers/log_context.py); outside a task it does nothing, so a service needs no cleanup."""
    if "task" in _current.get():
        bind(**fields)


@contextmanager
def bound(**fields: int | str | None) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        reset(token)


class ContextFilter(logging.Filter):
    """Copies the context onto each record, unless the call named a field itself
    (``log.info(..., extra={"batch_id": 7})``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _current.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
