"""Recording pushed reports durably and fast: group commit.

Each callback request waits for its report to be in PostgreSQL before it is answered 200, so
a report the provider saw acknowledged survives a crash the next instant. Requests do not
each pay a transaction: while one COPY is being committed, the reports arriving meanwhile
queue up, and the next COPY takes them all. Under load that is hundreds of reports per
commit; when idle, one.

The statement itself is ``persistence.inbox.append``; this module owns the grouping, the
connection and the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from dispatcher.errors import InboxUnavailableError
from dispatcher.persistence import inbox as inbox_table

log = logging.getLogger(__name__)

MAX_PER_COPY = 5000


class CallbackInbox:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._pending: list[tuple[str, str, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: psycopg.AsyncConnection[object] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="callback-inbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self._conn.close()

    async def record(self, account: str, params: str) -> None:
        """Return once the report is committed; raise InboxUnavailableError if it cannot be."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((account, params, done))
        self._wake.set()
        await done

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_PER_COPY], self._pending[MAX_PER_COPY:]
                try:
                    await self._write(batch)
                except (psycopg.Error, OSError) as exc:
                    log.error("could not record %s pushed report(s): %s", len(batch), exc)
                    await self._reset()
                    for *_, done in batch:
                        if not done.done():
                            done.set_exception(InboxUnavailableError(str(exc)))
                    continue
                for *_, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _write(self, batch: list[tuple[str, str, asyncio.Future[None]]]) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self._url)
        await inbox_table.append(self._conn, [(account, params) for account, params, _ in batch])
        await self._conn.commit()

    async def _reset(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await self._conn.close()
        self._conn = None
