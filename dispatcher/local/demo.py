"""The main job, end to end: a real campaign through real workers to the provider sandbox.

``dispatcher demo`` starts PostgreSQL and Redis (embedded unless configured), the sandbox, a
Celery worker, Celery beat and (for providers that push reports) the HTTP service; enqueues a
campaign on the chosen provider's sandbox account; shows its progress until every recipient
has a final status; prints a summary; and stops everything it started.
"""

from __future__ import annotations

import copy
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatcher.domain.models import CampaignProgress
from dispatcher.domain.statuses import FINAL_STATUSES, CampaignState, RecipientStatus
from dispatcher.errors import ConfigurationError
from dispatcher.local.sample import french_mobiles
from dispatcher.local.stack import LocalStack, StackOptions, fill_in, sandbox_emulator
from dispatcher.persistence import campaigns as campaign_rows
from dispatcher.providers.registry import DEFAULT_PROVIDER, REGISTRY
from dispatcher.runtime import build_deps
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import Settings, load_settings, settings_from_env

DEMO_TEXT = "Spring sale: -20% on everything until Sunday. Show this SMS in store."
DEMO_SECRET = "demo-callback-secret"  # noqa: S105 (a local demo's value)

# Fast but realistic: reports in seconds, polls growing from 1 s.
DEMO_TIMINGS = {
    "DISPATCHER_TIMINGS__SWEEP_INTERVAL_SECONDS": "1",
    "DISPATCHER_TIMINGS__REAP_INTERVAL_SECONDS": "5",
    "DISPATCHER_TIMINGS__POLL_FIRST_DELAY_SECONDS": "1",
    "DISPATCHER_TIMINGS__POLL_GROWTH": "1.5",
    "DISPATCHER_TIMINGS__POLL_MAX_INTERVAL_SECONDS": "5",
}
# The sandbox's outcomes by the number's last two digits (see dispatcher/sandbox/timeline.py):
# a few failures of each kind, and no number that stays without a final report. Each
# emulator adds its own ``rehearsal_config`` (Envoyer SMS Pro's request limit, say).
DEMO_SANDBOX: dict[str, Any] = {
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
    provider: str
    campaign_id: int
    recipients: int
    enqueue_seconds: float
    submitted_seconds: float | None
    final_seconds: float | None
    by_status_and_code: list[tuple[str, str | None, str | None, int]]
    sandbox_stats: Mapping[str, object] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.final_seconds is not None


def run_demo(
    *,
    provider: str = DEFAULT_PROVIDER,
    recipients: int = 10_000,
    workers: int = 1,
    concurrency: int = 2,
    timeout: float = 300.0,
    keep_data: bool = False,
    say: Callable[[str], None] = print,
) -> DemoSummary:
    configured = load_settings()
    data_dir = Path(tempfile.mkdtemp(prefix="dispatcher-demo-"))
    try:
        options = demo_stack(
            provider, data_dir, configured, workers=workers, concurrency=concurrency
        )
        say(
            f"Starting PostgreSQL, Redis, the provider sandbox, {workers} worker(s) and beat "
            f"(data and logs in {data_dir})..."
        )
        with LocalStack(options) as stack:
            say(
                f"  sandbox {stack.sandbox_url}; processes: "
                + ", ".join(f"{p.name} (pid {p.pid})" for p in stack.processes)
            )
            summary = _campaign(
                settings_from_env(stack.env), stack, provider, recipients, timeout, say
            )
        _print_summary(summary, say)
        return summary
    finally:
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def demo_stack(
    provider: str, data_dir: Path, configured: Settings, *, workers: int, concurrency: int
) -> StackOptions:
    """The stack of a demo on ``provider``'s sandbox account (``sandbox-<provider>``), from
    what the registry's adapter and the sandbox's emulator declare."""
    if provider not in REGISTRY:
        raise ConfigurationError(f"no provider {provider!r}; known: {', '.join(sorted(REGISTRY))}")
    # A provider that cannot be polled reports by pushing to the HTTP service: start it, and
    # give the account a callback secret (its emulator adds what reading the pushes takes).
    pushed = not REGISTRY[provider].can_poll
    sandbox_config = copy.deepcopy(DEMO_SANDBOX)
    fill_in(sandbox_config, sandbox_emulator(provider).rehearsal_config)
    account = {"provider": provider, **({"callback_secret": DEMO_SECRET} if pushed else {})}
    return StackOptions(
        data_dir=data_dir,
        database_url=configured.database_url,
        broker_url=configured.broker_url,
        sandbox_config=sandbox_config,
        workers=workers,
        concurrency=concurrency,
        api=pushed,
        env=DEMO_TIMINGS,
        sandbox_accounts={f"sandbox-{provider}": account},
    )


def _campaign(
    settings: Settings,
    stack: LocalStack,
    provider: str,
    count: int,
    timeout: float,
    say: Callable[[str], None],
) -> DemoSummary:
    deps = build_deps(settings)
    started = time.monotonic()
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account=f"sandbox-{provider}",
            text=DEMO_TEXT,
            recipients=french_mobiles(count),
            sender="SHOP",
            idempotency_key=f"demo-{time.time_ns()}",
        ),
    )
    enqueued = time.monotonic() - started
    say(f"Campaign {campaign_id} on {provider}: {count:,} recipients enqueued in {enqueued:.2f} s")
    submitted_at = final_at = None
    last_line = ""
    deadline = started + timeout
    while time.monotonic() < deadline:
        progress = campaign_status(deps, campaign_id)
        elapsed = time.monotonic() - started
        queued = progress.by_status.get(RecipientStatus.QUEUED, 0)
        if submitted_at is None and queued == 0 and progress.total:
            submitted_at = elapsed
        line = _progress_line(progress)
        if line != last_line:  # a line when the counts change, not every half second
            say(f"  [{elapsed:6.1f} s] {line}")
            last_line = line
        if progress.final == progress.total and progress.total:
            final_at = elapsed
            break
        if progress.state is CampaignState.NEEDS_ATTENTION:  # nothing moves on its own now
            waiting = ", ".join(
                f"{k.replace('_', ' ')} {n:,}" for k, n in progress.attention.items()
            )
            say(f"  [{elapsed:6.1f} s] campaign needs an operator: {waiting}")
            break
        time.sleep(0.5)
    with deps.db.transaction() as conn:
        rows = campaign_rows.status_and_code_counts(conn, campaign_id)
    with stack.sandbox() as admin:
        stats = admin.get("/_sandbox/stats").json()
    deps.db.dispose()
    return DemoSummary(
        provider,
        campaign_id,
        count,
        enqueued,
        submitted_at,
        final_at,
        [(r[0], r[1], r[2], r[3]) for r in rows],
        stats,
    )


def _progress_line(progress: CampaignProgress) -> str:
    ranked = sorted(progress.by_status.items(), key=lambda item: item[0].rank)
    counts = ", ".join(f"{status.value} {n:,}" for status, n in ranked if n)
    pct = 100 * progress.final / progress.total if progress.total else 0
    return f"{pct:5.1f}% final | {counts}"


def _print_summary(summary: DemoSummary, say: Callable[[str], None]) -> None:
    say("")
    say(
        f"Summary of campaign {summary.campaign_id} on {summary.provider} "
        f"({summary.recipients:,} recipients)"
    )
    say(f"  enqueue (validate, normalise, COPY): {summary.enqueue_seconds:.2f} s")
    say(f"  every batch submitted after:         {_secs(summary.submitted_seconds)}")
    say(f"  every recipient final after:         {_secs(summary.final_seconds)}")
    say("  recipients by status and provider code:")
    for status, code, description, n in summary.by_status_and_code:
        mark = "" if RecipientStatus(status) in FINAL_STATUSES else "  (not final)"
        say(f"    {status:<10} {code or '-':>28.28}  {(description or '')[:32]:<32} {n:>8,}{mark}")
    requests = summary.sandbox_stats.get("requests", {})
    if isinstance(requests, dict):
        shown = ", ".join(f"{k} {v:,}" for k, v in sorted(requests.items()) if v)
        say(f"  HTTP requests (sandbox's count): {shown}")
    stats = summary.sandbox_stats
    say(
        f"  sandbox accepted {stats.get('accepted_recipients', '?'):,} recipients in "
        f"{stats.get('accepted_submissions', '?')} submissions; "
        f"duplicates: {stats.get('duplicate_recipients', '?')}"
    )
    if not summary.complete:
        say("  NOT COMPLETE: some recipients had no final status before the time limit")


def _secs(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "not reached"


def main() -> None:  # pragma: no cover - the CLI calls run_demo
    summary = run_demo()
    sys.exit(0 if summary.complete else 1)
