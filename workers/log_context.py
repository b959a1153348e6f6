"""Each task's log lines name what it works on: Celery's prerun/postrun signals set the log
context (dispatcher/log_context.py) from the task's name and its id argument.

Tasks carry ids only (dispatcher/queueing.py), so the task's name says what its one argument
is: a campaign id for planning, a batch id for submitting and polling; housekeeping tasks
take none and are named only by ``task``.
"""

from __future__ import annotations

import contextlib
from contextvars import Token
from typing import Any

from celery import signals

from dispatcher import log_context
from dispatcher.queueing import PLAN_TASK, POLL_TASK, SUBMIT_TASK

ID_FIELD = {PLAN_TASK: "campaign_id", SUBMIT_TASK: "batch_id", POLL_TASK: "batch_id"}

# Tokens by task id, to undo exactly what prerun set (a pool process runs one task at a time,
# but an eager task may run inside another).
_tokens: dict[str, Token[log_context.Context]] = {}


def fields_for(task_name: str, args: Any) -> dict[str, int | str]:
    """The log context of one task run: its name, and its id argument named for what it is."""
    fields: dict[str, int | str] = {"task": task_name}
    field = ID_FIELD.get(task_name)
    if field and isinstance(args, list | tuple) and args and isinstance(args[0], int):
        fields[field] = args[0]
    return fields


def _prerun(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    if task_id is None or task is None:
        return
    _tokens[task_id] = log_context.bind(**fields_for(str(task.name), args))


def _postrun(task_id: str | None = None, **_: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        # Set in another context (a thread pool): it goes with that context.
        with contextlib.suppress(ValueError):
            log_context.reset(token)


def install() -> None:
    """Connect the handlers (strong references: they live as long as the worker)."""
    signals.task_prerun.connect(_prerun, weak=False)
    signals.task_postrun.connect(_postrun, weak=False)
