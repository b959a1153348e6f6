"""Callback ingestion: how many sMsmode delivery-report callbacks per second the HTTP service
records durably, and whether any it acknowledged is lost when it is killed.

A load generator (raw HTTP/1.1 keep-alive connections on asyncio, so that the generator is
not the bottleneck) sends ``count`` callbacks; every 200 it receives is counted. Afterwards
``callback_inbox`` must hold at least that many rows. With ``kill_after``, the service gets
SIGKILL mid-run and the same must hold.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text

from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence.database import Database

ACCOUNT = "sandbox-smsmode"
SECRET = "bench-secret"  # noqa: S105 (a benchmark's value)


@dataclass
class IngestionFigures:
    sent: int
    acknowledged: int
    recorded: int
    seconds: float
    killed: bool
    connections: int

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return max(0, self.acknowledged - self.recorded)

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "per_second": self.per_second, "lost": self.lost}


def run_ingestion(
    servers: ServerUrls,
    work_dir: Path,
    *,
    count: int = 50_000,
    connections: int = 128,
    kill_after: float | None = None,
) -> IngestionFigures:
    with fresh_database(servers.admin_url, prefix="dispatcher_ingest") as url:
        options = StackOptions(
            data_dir=work_dir,
            database_url=url,
            broker_url=servers.redis_url,
            sandbox=True,
            workers=0,
            beat=False,
            api=True,
            env={"DISPATCHER_LOG_LEVEL": "WARNING"},
            sandbox_accounts={ACCOUNT: {"callback_secret": SECRET}},
        )
        with LocalStack(options) as stack:
            assert stack.api_url is not None
            api = next(p for p in stack.processes if p.name == "api")
            port = int(stack.api_url.rsplit(":", 1)[1])
            started = time.monotonic()
            sent, acknowledged = asyncio.run(
                _load(
                    port,
                    count,
                    connections,
                    kill=(api.kill if kill_after else None),
                    kill_after=kill_after,
                )
            )
            seconds = time.monotonic() - started
            db = Database(url, pool_size=1)
            with db.transaction() as conn:
                recorded = conn.execute(text("SELECT count(*) FROM callback_inbox")).scalar_one()
            db.dispose()
    return IngestionFigures(
        sent, acknowledged, recorded, seconds, kill_after is not None, connections
    )


async def _load(
    port: int, count: int, connections: int, kill: object, kill_after: float | None
) -> tuple[int, int]:
    numbers = itertools.count(600_000_000)
    totals = {"sent": 0, "ok": 0}
    remaining = [count]

    async def connection() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                query = urlencode(
                    {
                        "numero": f"33{next(numbers)}",
                        "statut": "11",
                        "smsID": "bench",
                        "date_reception": "2026-11-22 10:00:00",
                    }
                )
                writer.write(
                    f"GET /callbacks/smsmode/{ACCOUNT}/{SECRET}?{query} HTTP/1.1\r\n"
                    "Host: 127.0.0.1\r\n\r\n".encode()
                )
                totals["sent"] += 1
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200"):
                    totals["ok"] += 1
        except (OSError, asyncio.IncompleteReadError):
            return  # the service went away (killed): what was acknowledged is counted
        finally:
            writer.close()

    async def killer() -> None:
        if kill_after is not None and callable(kill):
            await asyncio.sleep(kill_after)
            await asyncio.to_thread(kill)

    await asyncio.gather(killer(), *(connection() for _ in range(connections)))
    return totals["sent"], totals["ok"]
