"""One benchmark run of the product's own pipeline on the real stack.

Separate worker processes per queue (plan, submit, poll), beat, the sandbox answering with
delivery reports at once, and either polling (the default) or sMsmode callbacks to the HTTP
service. Times are taken from the producer's side: enqueue returns, every batch has left
(no batch pending, claimed or sending), every batch is done (every report applied).

A run uses a fresh database, or the history database it is given (ops/bench/history.py).
Redis's database index is flushed first: another database's leftover task ids must not act
here. For fairness, a 100-recipient campaign can be enqueued mid-run (``small_campaign_at``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Connection, text

from dispatcher.domain.statuses import BatchState
from dispatcher.local.sample import french_mobiles
from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence import campaigns
from dispatcher.queueing import HOUSEKEEPING_QUEUE, PLAN_QUEUE, POLL_QUEUE, SUBMIT_QUEUE
from dispatcher.runtime import build_deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import settings_from_env
from ops.bench.memory import PeakMemory
from workers.statements import KEY_VARIABLE

ACCOUNT = "sandbox-smsmode"
SECRET = "bench-secret"  # noqa: S105 (a benchmark's value)
TEXT = "Bench: -20% on everything until Sunday. Show this SMS in store."
# Reports at once, every number delivered: the benchmark measures the dispatcher.
SANDBOX = {
    "accept_any_token": True,
    "timeline": {"gateway_delay": 0, "final_delay": 0, "spread": 0, "rules": []},
    "callbacks": {"concurrency": 128},
}
TIMINGS = {
    "DISPATCHER_TIMINGS__SWEEP_INTERVAL_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__REAP_INTERVAL_SECONDS": "5",
    "DISPATCHER_TIMINGS__POLL_FIRST_DELAY_SECONDS": "0",
    "DISPATCHER_TIMINGS__POLL_GROWTH": "1",
    "DISPATCHER_TIMINGS__POLL_MAX_INTERVAL_SECONDS": "1",
    "DISPATCHER_LOG_LEVEL": "WARNING",
    "DISPATCHER_TIMINGS__CALLBACK_DRAIN_INTERVAL_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__CALLBACK_SETTLE_SECONDS": "0.5",
}
# With callbacks, polling starts only after the run would have ended: reports come pushed.
CALLBACK_TIMINGS = {**TIMINGS, "DISPATCHER_TIMINGS__POLL_FIRST_DELAY_SECONDS": "3600"}
# Worker process name -> (queues, concurrency); together they consume every queue.
WORKERS = {
    "plan": ((PLAN_QUEUE, HOUSEKEEPING_QUEUE), 1),
    "submit": ((SUBMIT_QUEUE,), 3),
    "poll": ((POLL_QUEUE,), 2),
}


SMALL_CAMPAIGN = 100  # recipients of the campaign enqueued during a large one (fairness)
BUSY_STATES = frozenset({BatchState.PENDING, BatchState.CLAIMED, BatchState.SENDING})


@dataclass
class PipelineFigures:
    recipients: int
    variant: str
    database: str  # "empty" (a fresh database) or "history"
    history_recipients: int  # recipients of earlier campaigns in the database at the start
    enqueue_s: float
    submitted_s: float  # after enqueue returned
    reported_s: float  # after enqueue returned
    batches: int
    http_requests: dict[str, int]
    statements: int
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    # The small campaign enqueued once this share of the large one's batches had left:
    # its enqueue to its last batch submitted, by the database's clock (created_at, the
    # enqueue transaction's start, to the latest submitted_at).
    small_campaign_s: float | None = None
    small_campaign_at_share: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "enqueue_per_s": self.recipients / self.enqueue_s,
            "submit_per_s": self.recipients / self.submitted_s,
            "report_per_s": self.recipients / self.reported_s,
            "statements_per_batch": self.statements / self.batches if self.batches else 0,
        }


def sandbox_account(*, callbacks: bool) -> dict[str, str]:
    # The sandbox has no request limit: lift the product's default (20/s for sMsmode).
    account = {"rate_limit": "1000/second"}
    if callbacks:
        account["callback_secret"] = SECRET
    return account


def run_pipeline(
    servers: ServerUrls,
    numbers: list[str],
    work_dir: Path,
    *,
    variant: str = "poll",
    timeout: float = 600.0,
    database_url: str | None = None,
    small_campaign_at: float | None = None,
) -> PipelineFigures:
    """One campaign of ``numbers`` through the stack, on ``database_url`` (a database with
    history, which keeps this campaign) or on a fresh database (None). With
    ``small_campaign_at`` (a share, e.g. 0.15), a 100-recipient campaign is enqueued once
    that share of the campaign's batches has been submitted."""
    key = f"bench:statements:{uuid.uuid4().hex}"
    callbacks = variant == "callbacks"
    # Messages and counters of an earlier run (another database's ids) must not leak in.
    redis.Redis.from_url(servers.redis_url).flushdb()
    with contextlib.ExitStack() as resources:
        url = database_url or resources.enter_context(
            fresh_database(servers.admin_url, prefix="dispatcher_bench")
        )
        options = StackOptions(
            data_dir=work_dir,
            database_url=url,
            broker_url=servers.redis_url,
            sandbox_config=SANDBOX,
            workers=0,
            beat=True,
            api=callbacks,
            env={**(CALLBACK_TIMINGS if callbacks else TIMINGS), KEY_VARIABLE: key},
            sandbox_accounts={ACCOUNT: sandbox_account(callbacks=callbacks)},
        )
        with LocalStack(options) as stack:
            for name, (queues, concurrency) in WORKERS.items():
                stack.start_worker(f"worker-{name}", queues=queues, concurrency=concurrency)
            deps = build_deps(settings_from_env(stack.env))
            with deps.db.transaction() as conn:
                history = _stored_recipients(conn)
            small = _SmallCampaign(deps, small_campaign_at)
            roots = {p.name: p.pid for p in stack.processes}
            with PeakMemory(roots) as memory:
                started = time.monotonic()
                campaign_id = enqueue(
                    deps,
                    CampaignRequest(account=ACCOUNT, text=TEXT, recipients=numbers, sender="SHOP"),
                )
                enqueued = time.monotonic()
                deadline = enqueued + timeout
                submitted = _wait(deps, campaign_id, BUSY_STATES, deadline, small.on_counts)
                not_done = set(BatchState) - {BatchState.DONE}
                reported = _wait(deps, campaign_id, not_done, deadline)
                small_s = small.submitted_s(deadline)
            with stack.sandbox() as admin:
                stats = admin.get("/_sandbox/stats").json()
            with deps.db.transaction() as conn:
                batches = sum(campaigns.batch_counts(conn, campaign_id).values())
            counted = redis.Redis.from_url(servers.redis_url, decode_responses=True).get(key)
            statements = int(str(counted or 0))
            deps.db.dispose()
    requests = {k: v for k, v in stats["requests"].items() if v}
    return PipelineFigures(
        recipients=len(numbers),
        variant=variant,
        database="empty" if database_url is None else "history",
        history_recipients=history,
        enqueue_s=enqueued - started,
        submitted_s=submitted - enqueued,
        reported_s=reported - enqueued,
        batches=batches,
        http_requests=requests,
        statements=statements,
        peak_rss_mb=memory.peaks,
        small_campaign_s=small_s,
        small_campaign_at_share=small.at_share,
    )


class _SmallCampaign:
    """The 100-recipient campaign enqueued during a large one, and its time to submitted."""

    def __init__(self, deps: Any, at_share: float | None) -> None:
        self._deps = deps
        self._at = at_share
        self.campaign_id: int | None = None
        self.at_share: float | None = None

    def on_counts(self, counts: dict[BatchState, int]) -> None:
        total = sum(counts.values())
        if self._at is None or self.campaign_id is not None or not total:
            return
        share = 1 - sum(counts.get(state, 0) for state in BUSY_STATES) / total
        if share >= self._at:
            self.at_share = share
            numbers = french_mobiles(SMALL_CAMPAIGN, seed=4242)
            self.campaign_id = enqueue(
                self._deps,
                CampaignRequest(account=ACCOUNT, text=TEXT, recipients=numbers, sender="SHOP"),
            )

    def submitted_s(self, deadline: float) -> float | None:
        if self.campaign_id is None:
            return None
        _wait(self._deps, self.campaign_id, BUSY_STATES, deadline)
        with self._deps.db.transaction() as conn:
            seconds = conn.execute(
                text(
                    "SELECT extract(epoch FROM max(b.submitted_at) - c.created_at) "
                    "FROM campaigns c JOIN batches b ON b.campaign_id = c.id "
                    "WHERE c.id = :c GROUP BY c.created_at"
                ),
                {"c": self.campaign_id},
            ).scalar_one()
        return float(seconds)


def _stored_recipients(conn: Connection) -> int:
    return int(
        conn.execute(text("SELECT coalesce(sum(recipients), 0) FROM campaigns")).scalar_one()
    )


def _wait(
    deps: Any,
    campaign_id: int,
    states: Collection[BatchState],
    deadline: float,
    on_counts: Callable[[dict[BatchState, int]], None] | None = None,
) -> float:
    """The moment the campaign has batches and none is in ``states`` (every 0.1 s)."""
    while time.monotonic() < deadline:
        with deps.db.transaction() as conn:
            counts = campaigns.batch_counts(conn, campaign_id)
        if on_counts is not None:
            on_counts(counts)
        if counts and not any(counts.get(state) for state in states):
            return time.monotonic()
        time.sleep(0.1)
    still = sorted(state.value for state in states)
    raise TimeoutError(f"campaign {campaign_id}: batches still in {still} at the time limit")
