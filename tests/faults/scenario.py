"""What every scenario does: enqueue a campaign, aim a sandbox fault at it, find the batches
and processes to break, and audit the end (wait until final, compare the two records, put the
row in the end-of-run table). A new scenario is these calls around one fault.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from dispatcher.errors import DispatcherError
from dispatcher.local.embedded import EmbeddedPostgres, EmbeddedRedis
from dispatcher.local.processes import ManagedProcess
from dispatcher.local.sample import french_mobiles
from dispatcher.local.stack import LocalStack
from dispatcher.services.campaigns import cancel_campaign
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.faults.gate import Gate
from tests.faults.ledger import Row, Run, compare, wait_final
from tests.support.waiting import wait_until


@dataclass
class FaultStack:
    """What a scenario breaks and what it reads: the servers, the processes, the records."""

    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    stack: LocalStack
    deps: Deps
    gate: Gate  # in front of the sandbox for the account "f-gated"

    def sandbox(self) -> httpx.Client:
        return self.stack.sandbox()

    def workers(self) -> list[ManagedProcess]:
        return [p for p in self.stack.processes if p.name.startswith("worker") and p.alive()]

    def beats(self) -> list[ManagedProcess]:
        return [p for p in self.stack.processes if p.name.startswith("beat") and p.alive()]


# The sandbox decides a number's final report by its last two digits: 95-99 are not delivered.
NEVER_FINAL_OR_FAILING = ("95", "96", "97", "98", "99")


def delivered_numbers(count: int, seed: int) -> list[str]:
    """Distinct mobiles the sandbox delivers."""
    return list(french_mobiles(count, seed=seed, avoid=NEVER_FINAL_OR_FAILING))


def start(faults: FaultStack, account: str, provider: str, numbers: Iterable[str]) -> Run:
    """Enqueue a campaign whose text carries a marker of its own."""
    marker = f"F{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    campaign_id = enqueue(
        faults.deps,
        CampaignRequest(
            account=account, text=f"Fault run {marker}", recipients=list(numbers), sender="Faults"
        ),
    )
    return Run(campaign_id, provider, marker, started)


def start_plain(faults: FaultStack, account: str, provider: str, count: int, seed: int) -> Run:
    return start(faults, account, provider, delivered_numbers(count, seed))


def fault(
    sandbox: httpx.Client,
    run: Run,
    endpoint: str,
    action: dict[str, object],
    match: dict[str, str] | None = None,
    probability: float = 1.0,
    seed: str | None = None,
) -> str:
    """A sandbox fault rule on ``endpoint`` for this campaign's requests (by its marker unless
    ``match`` says otherwise); returns the rule's id. A ``seed`` of its own makes a probable
    rule fire on the same requests whatever rules other scenarios added before."""
    rule = {
        "provider": run.provider,
        "endpoint": endpoint,
        "match": match or {"text_contains": run.marker},
        "action": action,
        "probability": probability,
        "seed": seed,
    }
    answer = sandbox.post("/_sandbox/faults", json=rule)
    answer.raise_for_status()
    rule_id: str = answer.json()["id"]
    return rule_id


def audit(
    faults: FaultStack, runs: list[Run], scenario: str, table: list[Row], timeout: float
) -> Row:
    """Wait for every campaign to end, compare the records, and put the row in the table
    (even when the comparison itself fails, so the end-of-run table shows every scenario)."""
    row = Row(scenario)
    try:
        row.seconds_to_final = wait_final(faults.deps.db, runs, timeout)
        with faults.sandbox() as sandbox:
            for run in runs:
                row.add(compare(faults.deps.db, sandbox, run, scenario))
    finally:
        table.append(row)
        if row.seconds_to_final is None:  # stop what is left, so the next scenario starts idle
            for run in runs:
                with contextlib.suppress(DispatcherError):
                    cancel_campaign(faults.deps, run.campaign_id)
    return row


def assert_kept_promises(row: Row) -> None:
    """The issue's checks: all final, no violation, 0 duplicates and 0 lost."""
    assert row.seconds_to_final is not None, f"not all final: {row.violations}"
    assert row.violations == []
    assert (row.duplicates, row.lost) == (0, 0)


def batches_in(faults: FaultStack, runs: list[Run], state: str) -> list[tuple[int, str | None]]:
    with faults.deps.db.transaction() as conn:
        rows = conn.execute(
            text("SELECT id, worker FROM batches WHERE campaign_id = ANY(:c) AND state = :s"),
            {"c": [r.campaign_id for r in runs], "s": state},
        )
        return [(r.id, r.worker) for r in rows]


def submitted_share(faults: FaultStack, run: Run) -> float:
    with faults.deps.db.transaction() as conn:
        done, total = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status <> 'queued'), count(*) "
                "FROM recipients WHERE campaign_id = :c"
            ),
            {"c": run.campaign_id},
        ).one()
    return int(done) / max(1, int(total))


def worker_of(faults: FaultStack, holder: str | None) -> ManagedProcess | None:
    """The worker process whose pool process holds a batch (``host:pid``): pool processes are in
    their worker's process group, which the stack started as a new session."""
    if holder is None:
        return None
    try:
        group = os.getpgid(int(holder.rsplit(":", 1)[1]))
    except (ProcessLookupError, ValueError):
        return None
    return next((p for p in faults.workers() if p.pid == group), None)


def wait(probe: Callable[[], object], what: str, timeout: float = 30) -> None:
    wait_until(lambda: bool(probe()), timeout=timeout, interval=0.1, what=what)


def sandbox_requests(sandbox: httpx.Client, *keys: str) -> int:
    """The sandbox's request counters ``keys`` (``smsmode.send``...), summed."""
    answer = sandbox.get("/_sandbox/stats")
    answer.raise_for_status()
    counters: dict[str, int] = answer.json()["requests"]
    return sum(counters.get(key, 0) for key in keys)


def applied(sandbox: httpx.Client, rule_id: str) -> int:
    """How many requests a fault rule has answered."""
    answer = sandbox.get("/_sandbox/faults")
    answer.raise_for_status()
    return next(int(r["applied"]) for r in answer.json()["faults"] if r["id"] == rule_id)
