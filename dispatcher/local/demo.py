"""The main job, end to end: a real campaign through real workers to the provider sandbox.

``dispatcher demo`` starts PostgreSQL and Redis (embedded unless configured), the sandbox, a
Celery worker and Celery beat; enqueues a campaign; shows its progress until every recipient
has a final status; prints a summary; and stops everything it started.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from dispatcher.domain.models import CampaignProgress
from dispatcher.domain.statuses import FINAL_STATUSES, RecipientStatus
from dispatcher.local.sample import french_mobiles
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.runtime import build_deps
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import Settings, load_settings

DEMO_ACCOUNT = "sandbox-smsmode"
DEMO_TEXT = "Spring sale: -20% on everything until Sunday. Show this SMS in store."

# Fast but realistic: reports in seconds, polls growing from 1 s.
DEMO_TIMINGS = {
    "DISPATCHER_TIMINGS__SWEEP_INTERVAL_SECONDS": "1",
    "DISPATCHER_TIMINGS__REAP_INTERVAL_SECONDS": "5",
    "DISPATCHER_TIMINGS__POLL_FIRST_DELAY_SECONDS": "1",
    "DISPATCHER_TIMINGS__POLL_GROWTH": "1.5",
    "DISPATCHER_TIMINGS__POLL_MAX_INTERVAL_SECONDS": "5",
}
# The sandbox's outcomes by the number's last two digits (see dispatcher/sandbox/timeline.py):
# a few failures of each kind, and no number that stays without a final report.
DEMO_SANDBOX = {
    "timeline": {
        "gateway_delay": 0.5,
        "final_delay": 2.0,
        "spread": 2.0,
        "rules": [
            {"suffix": "99", "final": "delivery_error"},
            {"suffix": "98", "final": "routing_error"},
            {"suffix": "97", "final": "invalid_recipient"},
            {"suffix": "96", "final": "expired"},
        ],
    },
}


@dataclass
class DemoSummary:
    campaign_id: int
    recipients: int
    enqueue_seconds: float
    submitted_seconds: float | None
    final_seconds: float | None
    by_status_and_code: list[tuple[str, str | None, str | None, int]]
    sandbox_stats: dict[str, object] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.final_seconds is not None


def run_demo(
    *,
    recipients: int = 10_000,
    workers: int = 1,
    concurrency: int = 2,
    timeout: float = 300.0,
    keep_data: bool = False,
    say: Callable[[str], None] = print,
) -> DemoSummary:
    configured = load_settings()
    data_dir = Path(tempfile.mkdtemp(prefix="dispatcher-demo-"))
    sandbox_config = data_dir / "sandbox.json"
    sandbox_config.write_text(json.dumps(DEMO_SANDBOX))
    options = StackOptions(
        data_dir=data_dir,
        database_url=configured.database_url,
        broker_url=configured.broker_url,
        sandbox_config=sandbox_config,
        workers=workers,
        concurrency=concurrency,
        env=DEMO_TIMINGS,
    )
    say(
        f"Starting PostgreSQL, Redis, the provider sandbox, {workers} worker(s) and beat "
        f"(data and logs in {data_dir})..."
    )
    try:
        with LocalStack(options) as stack:
            assert stack.endpoints is not None
            settings = _stack_settings(stack)
            say(
                f"  sandbox {stack.sandbox_url}; processes: "
                + ", ".join(f"{p.name} (pid {p.pid})" for p in stack.processes)
            )
            summary = _campaign(settings, stack, recipients, timeout, say)
        _print_summary(summary, say)
        return summary
    finally:
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def _stack_settings(stack: LocalStack) -> Settings:
    assert stack.endpoints is not None
    env = {**stack.env}
    prefix = "DISPATCHER_ACCOUNTS__SANDBOX_SMSMODE__"
    return load_settings(
        database_url=stack.endpoints.database_url,
        broker_url=stack.endpoints.broker_url,
        accounts={
            DEMO_ACCOUNT: {
                "provider": "smsmode",
                "base_url": env[prefix + "BASE_URL"],
                "access_token": env[prefix + "ACCESS_TOKEN"],
            }
        },
    )


def _campaign(
    settings: Settings, stack: LocalStack, count: int, timeout: float, say: Callable[[str], None]
) -> DemoSummary:
    deps = build_deps(settings)
    started = time.monotonic()
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account=DEMO_ACCOUNT,
            text=DEMO_TEXT,
            recipients=french_mobiles(count),
            sender="SHOP",
            idempotency_key=f"demo-{time.time_ns()}",
        ),
    )
    enqueued = time.monotonic() - started
    say(f"Campaign {campaign_id}: {count:,} recipients enqueued in {enqueued:.2f} s")
    submitted_at = final_at = None
    last_line = ""
    deadline = started + timeout
    while time.monotonic() < deadline:
        progress = campaign_status(deps, campaign_id)
        elapsed = time.monotonic() - started
        if (
            submitted_at is None
            and progress.by_status.get(RecipientStatus.QUEUED, 0) == 0
            and progress.total
        ):
            submitted_at = elapsed
        line = _progress_line(progress, elapsed)
        if line != last_line:
            say(line)
            last_line = line
        if progress.final == progress.total and progress.total:
            final_at = elapsed
            break
        time.sleep(0.5)
    with deps.db.transaction() as conn:
        rows = conn.execute(
            text(
                "SELECT status, provider_code, provider_text, count(*) FROM recipients "
                "WHERE campaign_id = :c GROUP BY 1, 2, 3 ORDER BY 4 DESC"
            ),
            {"c": campaign_id},
        ).all()
    with stack.sandbox() as admin:
        stats = admin.get("/_sandbox/stats").json()
    deps.db.dispose()
    return DemoSummary(
        campaign_id,
        count,
        enqueued,
        submitted_at,
        final_at,
        [(r[0], r[1], r[2], r[3]) for r in rows],
        stats,
    )


def _progress_line(progress: CampaignProgress, elapsed: float) -> str:
    counts = ", ".join(
        f"{s.value} {n:,}"
        for s, n in sorted(progress.by_status.items(), key=lambda i: i[0].rank)
        if n
    )
    pct = 100 * progress.final / progress.total if progress.total else 0
    return f"  [{elapsed:6.1f} s] {pct:5.1f}% final | {counts}"


def _print_summary(summary: DemoSummary, say: Callable[[str], None]) -> None:
    say("")
    say(f"Summary of campaign {summary.campaign_id} ({summary.recipients:,} recipients)")
    say(f"  enqueue (validate, normalise, COPY): {summary.enqueue_seconds:.2f} s")
    say(f"  every batch submitted after:         {_secs(summary.submitted_seconds)}")
    say(f"  every recipient final after:         {_secs(summary.final_seconds)}")
    say("  recipients by status and provider code:")
    for status, code, description, n in summary.by_status_and_code:
        mark = "" if RecipientStatus(status) in FINAL_STATUSES else "  (not final)"
        say(f"    {status:<10} {code or '-':>5}  {(description or '')[:40]:<40} {n:>8,}{mark}")
    requests = summary.sandbox_stats.get("requests", {})
    if isinstance(requests, dict):
        shown = ", ".join(f"{k} {v:,}" for k, v in sorted(requests.items()) if v)
        say(f"  HTTP requests (sandbox's count): {shown}")
    say(
        f"  sandbox accepted {summary.sandbox_stats.get('accepted_recipients', '?'):,} recipients "
        f"in {summary.sandbox_stats.get('accepted_submissions', '?')} submissions; "
        f"duplicates: {summary.sandbox_stats.get('duplicate_recipients', '?')}"
    )
    if not summary.complete:
        say("  NOT COMPLETE: some recipients had no final status before the time limit")


def _secs(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "not reached"


def main() -> None:  # pragma: no cover - the CLI calls run_demo
    summary = run_demo()
    sys.exit(0 if summary.complete else 1)
