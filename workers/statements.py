"""Counting the SQL statements workers run, for the benchmark's "statements per batch".

Off unless ``DISPATCHER_COUNT_STATEMENTS`` names a Redis key: each worker process counts the
statements its tasks execute and adds them to that key after every task (one INCRBY per
task, nothing per statement).
"""

from __future__ import annotations

import os
from typing import Any

import redis
from celery import signals
from sqlalchemy import event
from sqlalchemy.engine import Engine

KEY_VARIABLE = "DISPATCHER_COUNT_STATEMENTS"


class _Counter:
    def __init__(self, redis_url: str, key: str) -> None:
        self.redis_url, self.key = redis_url, key
        self.count = 0
        self._client: redis.Redis | None = None
        self._pid = 0

    def statement(self, *_: Any, **__: Any) -> None:
        self.count += 1

    def flush(self, **_: Any) -> None:
        if not self.count:
            return
        if self._client is None or self._pid != os.getpid():
            self._client, self._pid = redis.Redis.from_url(self.redis_url), os.getpid()
        self._client.incrby(self.key, self.count)
        self.count = 0


def install(redis_url: str) -> None:
    key = os.environ.get(KEY_VARIABLE)
    if not key:
        return
    counter = _Counter(redis_url, key)
    event.listen(Engine, "before_cursor_execute", counter.statement)
    signals.task_postrun.connect(counter.flush, weak=False)
