"""History for the benchmark: earlier campaigns, finished, as the product would have left them.

A campaign's speed must not depend on how many recipients earlier campaigns had
(docs/design-rules.md 2.5), so the benchmark measures on a database holding millions of them.
Each history campaign goes through the product's own storage path (``services.enqueue``,
numbers streamed, COPY; whatever table layout enqueue creates) with a send time a year ahead,
so no worker touches it; it is then finished set-wise, one statement per table and campaign,
the way the pipeline leaves a campaign: batches created by the planner's own statement and
done, recipients final (mostly delivered, some failed or expired), two delivery events per
recipient (the submit's and the final report's), the campaign ``done`` at a past date. The
database is then vacuumed and analysed, as autovacuum would have left it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from dispatcher.domain.statuses import CampaignState
from dispatcher.local.sample import french_mobiles
from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence.batches import create_batches
from dispatcher.runtime import build_deps
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import settings_from_env
from ops.bench.pipeline import ACCOUNT, SANDBOX, sandbox_account

# Shares of the total: three large campaigns, ten medium ones, a hundred small ones.
SHARES = (0.2,) * 3 + (0.025,) * 10 + (0.0015,) * 100
TEXT = "History #{n}: our spring offers are here. Show this SMS in store."
# What the sandbox's sMsmode answers: the submit's code, then each recipient's final report,
# by the last two digits of its row number (low <= digits < high): 96 % delivered.
SUBMIT_CODE, SUBMIT_TEXT = "0", "Accepted"
OUTCOMES_SQL = (
    "(0, 3, 'failed', '34', 'Routing error'), (3, 4, 'expired', '37', 'Expired message'), "
    "(4, 100, 'delivered', '11', 'Received')"
)


@dataclass(frozen=True)
class HistoryFigures:
    recipients: int
    campaigns: int
    seconds: float  # all of it, wall clock
    enqueue_s: float  # the product's enqueue, numbers generated on the way
    finish_s: float  # the set-wise statements marking them finished (beside the next enqueue)
    vacuum_analyze_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def campaign_sizes(total: int) -> list[int]:
    """Sizes as in real use, a few large and many small, adding up to ``total``."""
    sizes = [size for share in SHARES if (size := int(total * share)) > 0]
    if not sizes:
        return [total] if total > 0 else []
    sizes[0] += total - sum(sizes)
    return sizes


@contextlib.contextmanager
def history_database(
    servers: ServerUrls, work_dir: Path, total: int, seed: int = 7
) -> Iterator[tuple[str, HistoryFigures]]:
    """A new database holding ``total`` recipients of history (its URL), dropped afterwards.
    The sandbox runs only because the account's settings point at it; no worker starts."""
    with fresh_database(servers.admin_url, prefix="dispatcher_bench_history") as url:
        options = StackOptions(
            data_dir=work_dir,
            database_url=url,
            broker_url=servers.redis_url,
            sandbox_config=SANDBOX,
            workers=0,
            beat=False,
            sandbox_accounts={ACCOUNT: sandbox_account(callbacks=False)},
        )
        with LocalStack(options) as stack:
            deps = build_deps(settings_from_env(stack.env))
            try:
                figures = load_history(deps, url, total, account=ACCOUNT, seed=seed)
            finally:
                deps.db.dispose()
        yield url, figures


def load_history(
    deps: Deps, database_url: str, total: int, *, account: str, seed: int = 7
) -> HistoryFigures:
    """``total`` recipients in finished campaigns of ``account``, then VACUUM ANALYZE."""
    begun = time.monotonic()
    sizes = campaign_sizes(total)
    now = datetime.now(UTC)
    enqueue_s = 0.0
    # Campaign n is finished (the database's work) while n + 1 is enqueued (mostly this
    # process's: numbers generated and checked): on two cores that nearly halves the wait.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-finish") as finisher:
        finishing: list[Future[float]] = []
        for n, size in enumerate(sizes):
            started = time.monotonic()
            campaign_id = enqueue(
                deps,
                CampaignRequest(
                    account=account,
                    text=TEXT.format(n=n),
                    recipients=french_mobiles(size, seed=seed + n),
                    sender="SHOP",
                    send_at=now + timedelta(days=365),  # never due: no worker plans it
                    options={"ignore_balance": True},
                ),
            )
            enqueue_s += time.monotonic() - started
            if finishing:
                finishing[-1].result()  # one at a time: finishing is the database's work
            sent_at = now - timedelta(days=len(sizes) - n)
            finishing.append(finisher.submit(_finish_timed, deps, campaign_id, sent_at))
        finish_s = sum(future.result() for future in finishing)
    started = time.monotonic()
    vacuum_analyze(database_url)
    return HistoryFigures(
        seconds=time.monotonic() - begun,
        recipients=sum(sizes),
        campaigns=len(sizes),
        enqueue_s=enqueue_s,
        finish_s=finish_s,
        vacuum_analyze_s=time.monotonic() - started,
    )


def _finish_timed(deps: Deps, campaign_id: int, sent_at: datetime) -> float:
    started = time.monotonic()
    with deps.db.transaction() as conn:
        finish_campaign(conn, campaign_id, sent_at)
    return time.monotonic() - started


def finish_campaign(conn: Connection, campaign_id: int, sent_at: datetime) -> None:
    """An enqueued campaign as the pipeline leaves it once every report is in, set-wise."""
    reported_at = sent_at + timedelta(minutes=2)
    done_at = sent_at + timedelta(minutes=5)
    times = {"c": campaign_id, "sent": sent_at, "reported": reported_at, "done": done_at}
    create_batches(conn, campaign_id, sent_at)
    conn.execute(
        text(
            """
            UPDATE batches SET state = 'done', attempts = 1, published_at = :sent,
                   provider_ref = 'history-' || id, last_outcome = 'accepted',
                   last_code = :code, last_message = :msg, sending_at = :sent,
                   submitted_at = :sent, finished_at = :done, polls = 2,
                   created_at = :sent, updated_at = :done
            WHERE campaign_id = :c
            """
        ),
        {**times, "code": SUBMIT_CODE, "msg": SUBMIT_TEXT},
    )
    conn.execute(
        text(
            f"""
            UPDATE recipients r SET status = o.status, provider_code = o.code,
                   provider_text = o.description, status_at = :reported, updated_at = :reported
            FROM (VALUES {OUTCOMES_SQL}) o (low, high, status, code, description)
            WHERE r.campaign_id = :c AND r.row_no % 100 >= o.low AND r.row_no % 100 < o.high
            """  # noqa: S608 (constants only)
        ),
        times,
    )
    conn.execute(
        text(
            """
            INSERT INTO delivery_events (recipient_id, campaign_id, status, raw_code, raw_text,
                                         source, occurred_at, recorded_at)
            SELECT r.id, r.campaign_id, e.status, e.code, e.description, e.source, e.at, e.at
            FROM recipients r CROSS JOIN LATERAL (
                VALUES ('submitted', :code, :msg, 'submit', CAST(:sent AS timestamptz)),
                       (r.status, r.provider_code, r.provider_text, 'poll',
                        CAST(:reported AS timestamptz))
            ) e (status, code, description, source, at)
            WHERE r.campaign_id = :c
            """
        ),
        {**times, "code": SUBMIT_CODE, "msg": SUBMIT_TEXT},
    )
    conn.execute(
        text(
            "UPDATE campaigns SET state = :done_state, send_at = :sent, created_at = :sent, "
            "started_at = :sent, finished_at = :done, updated_at = :done WHERE id = :c"
        ),
        {**times, "done_state": CampaignState.DONE.value},
    )


def vacuum_analyze(database_url: str) -> None:
    """What autovacuum would have done by now, and a checkpoint so that the writes behind
    it are not flushed during the first measured run."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")  # on a server we do not own, its own checkpoints will do
