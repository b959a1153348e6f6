"""One benchmark run of the product's own pipeline on the real stack.

Separate worker processes per queue (plan, submit, poll), beat, the sandbox answering with
delivery reports at once, and either polling (the default) or sMsmode callbacks to the HTTP
service. Times are taken from the producer's side: enqueue returns, every batch has left
(no batch pending, claimed or sending), every batch is done (every report applied).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from dispatcher.domain.statuses import BatchState
from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence import campaigns
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
WORKERS = {"plan": 1, "submit": 3, "poll": 2}


@dataclass
class PipelineFigures:
    recipients: int
    variant: str
    enqueue_s: float
    submitted_s: float  # after enqueue returned
    reported_s: float  # after enqueue returned
    batches: int
    http_requests: dict[str, int]
    statements: int
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "enqueue_per_s": self.recipients / self.enqueue_s,
            "submit_per_s": self.recipients / self.submitted_s,
            "report_per_s": self.recipients / self.reported_s,
            "statements_per_batch": self.statements / self.batches if self.batches else 0,
        }


def run_pipeline(
    servers: ServerUrls,
    numbers: list[str],
    work_dir: Path,
    *,
    variant: str = "poll",
    timeout: float = 600.0,
) -> PipelineFigures:
    key = f"bench:statements:{uuid.uuid4().hex}"
    callbacks = variant == "callbacks"
    # The sandbox has no request limit: lift the product's default (20/s for sMsmode).
    account: dict[str, str] = {"rate_limit": "1000/second"}
    if callbacks:
        account["callback_secret"] = SECRET
    with fresh_database(servers.admin_url, prefix="dispatcher_bench") as url:
        options = StackOptions(
            data_dir=work_dir,
            database_url=url,
            broker_url=servers.redis_url,
            sandbox_config=SANDBOX,
            workers=0,
            beat=True,
            api=callbacks,
            env={**(CALLBACK_TIMINGS if callbacks else TIMINGS), KEY_VARIABLE: key},
            sandbox_accounts={ACCOUNT: account},
        )
        with LocalStack(options) as stack:
            for queue, concurrency in WORKERS.items():
                stack.start_worker(f"worker-{queue}", queues=(queue,), concurrency=concurrency)
            deps = build_deps(settings_from_env(stack.env))
            roots = {p.name: p.pid for p in stack.processes}
            with PeakMemory(roots) as memory:
                started = time.monotonic()
                campaign_id = enqueue(
                    deps,
                    CampaignRequest(account=ACCOUNT, text=TEXT, recipients=numbers, sender="SHOP"),
                )
                enqueued = time.monotonic()
                submitted = _wait(
                    deps,
                    campaign_id,
                    {BatchState.PENDING, BatchState.CLAIMED, BatchState.SENDING},
                    enqueued + timeout,
                )
                not_done = set(BatchState) - {BatchState.DONE}
                reported = _wait(deps, campaign_id, not_done, enqueued + timeout)
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
        enqueue_s=enqueued - started,
        submitted_s=submitted - enqueued,
        reported_s=reported - enqueued,
        batches=batches,
        http_requests=requests,
        statements=statements,
        peak_rss_mb=memory.peaks,
    )


def _wait(deps: Any, campaign_id: int, states: set[BatchState], deadline: float) -> float:
    """The moment the campaign has batches and none is in ``states`` (every 0.1 s)."""
    while time.monotonic() < deadline:
        with deps.db.transaction() as conn:
            counts = campaigns.batch_counts(conn, campaign_id)
        if counts and not any(counts.get(state) for state in states):
            return time.monotonic()
        time.sleep(0.1)
    still = sorted(state.value for state in states)
    raise TimeoutError(f"campaign {campaign_id}: batches still in {still} at the time limit")
