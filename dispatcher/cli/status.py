"""``dispatcher status ID``: a campaign in words (default), as JSON (``--json``), or live
(``--watch``): progress bars, the send rate, an ETA and why it is not moving.

Every refresh is one ``campaign_status`` snapshot (counts on the campaign's own partition and
its unfinished batches only), so watching a big campaign costs the database little.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table
from rich.text import Text

from dispatcher.cli.app import cli
from dispatcher.domain.statuses import BatchState, CampaignState, RecipientStatus
from dispatcher.domain.waiting import PROVIDER_NAMES, duration

if TYPE_CHECKING:
    from dispatcher.domain.models import CampaignProgress
    from dispatcher.persistence.audit import AuditEntry

AUDIT_SHOWN = 5
RATE_SAMPLES = 5  # refreshes the send rate is measured over
# The bars of --watch: recipients that left (anything but queued and cancelled), then finals.
BARS = ("submitted", "delivered", "failed", "expired", "unknown")
EXIT_NEEDS_ATTENTION = 1


@cli.command()
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The JSON of GET /campaigns/{id}.")
@click.option("--watch", is_flag=True, help="Refresh until the campaign settles.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2),
    default=2.0,
    show_default=True,
    help="Seconds between refreshes of --watch.",
)
def status(campaign_id: int, as_json: bool, watch: bool, interval: float) -> None:
    """A campaign's state, recipients by status, batches by state, why it waits and the last
    operators' actions. ``--watch`` exits 0 once it is done or cancelled, 1 when it needs an
    operator."""
    from dispatcher import campaign_status

    if watch:
        sys.exit(_watch(campaign_id, interval, as_json=as_json))
    progress = campaign_status(campaign_id)
    if as_json:
        click.echo(json.dumps(progress.as_dict(), indent=2))
    else:
        console = Console(soft_wrap=True, highlight=False)
        console.print(_summary(progress, _audit(campaign_id)))
    _notes(progress)


def _audit(campaign_id: int) -> list[AuditEntry]:
    from dispatcher.persistence import audit
    from dispatcher.runtime import default_deps

    with default_deps().db.snapshot() as conn:
        return audit.for_campaign(conn, campaign_id, limit=AUDIT_SHOWN)


def _notes(progress: CampaignProgress) -> None:
    """On stderr, what an archived or stuck campaign means and what to do."""
    campaign_id = progress.campaign_id
    if progress.archived_at is not None:
        click.echo(
            f"campaign {campaign_id} was archived on {progress.archived_at:%Y-%m-%d %H:%M %Z} "
            f"to {progress.archive_path}: its counts are those of that day",
            err=True,
        )
    if progress.state is CampaignState.NEEDS_ATTENTION:
        waiting = ", ".join(
            f"{n} {what.replace('_', ' ')}" for what, n in progress.attention.items() if n
        )
        click.echo(
            f"campaign {campaign_id} needs attention: {waiting}. Nothing moves on its own: "
            f"`dispatcher batches --state unknown --campaign {campaign_id}` lists the batches "
            "(and --state held), `dispatcher batch show BATCH_ID` shows what the provider "
            "answered and what reconciliation found, `dispatcher batch resolve BATCH_ID "
            "--sent|--failed` records your decision, `dispatcher cancel` stops the campaign.",
            err=True,
        )


def _summary(progress: CampaignProgress, entries: Sequence[AuditEntry]) -> Group:
    parts: list[Text | Table] = [_heading(progress)]
    times = progress.times
    if times is not None:
        stamps = [("created", times.created_at), ("send at", times.send_at),
                  ("started", times.started_at), ("finished", times.finished_at)]  # fmt: skip
        parts.append(Text("  ".join(f"{k} {_stamp(v)}" for k, v in stamps)))
    parts.append(_recipients_table(progress))
    batches = ", ".join(f"{n} {s.value}" for s, n in _ordered(progress.batches_by_state))
    parts.append(Text(f"batches: {batches or 'none yet'}"))
    dropped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in progress.dropped.items() if n)
    if dropped:
        parts.append(Text(f"dropped at enqueue: {dropped}"))
    if progress.archived_at is not None:
        parts.append(Text(f"archived {_stamp(progress.archived_at)} to {progress.archive_path}"))
    parts.extend(_waiting_lines(progress))
    if entries:
        parts.append(Text("last actions:", style="bold"))
        parts.extend(Text(f"  {entry.line()}") for entry in entries)
    return Group(*parts)


def _heading(progress: CampaignProgress) -> Text:
    provider = progress.times.provider if progress.times else ""
    name = PROVIDER_NAMES.get(provider, provider)
    heading = Text(f"campaign {progress.campaign_id}: ", style="bold")
    heading.append(progress.state.value, style=_STATE_STYLE.get(progress.state, "bold"))
    heading.append(f"  account {progress.account}" + (f" ({name})" if name else ""))
    return heading


_STATE_STYLE = {
    CampaignState.DONE: "bold green",
    CampaignState.NEEDS_ATTENTION: "bold red",
    CampaignState.PAUSED: "bold yellow",
    CampaignState.CANCELLED: "bold magenta",
}


def _recipients_table(progress: CampaignProgress) -> Table:
    table = Table(title=f"{progress.total} recipients", title_justify="left", box=None)
    table.add_column("status")
    table.add_column("recipients", justify="right")
    table.add_column("share", justify="right")
    for status in RecipientStatus:
        count = progress.by_status.get(status, 0)
        if count:
            table.add_row(status.value, str(count), _percent(count, progress.total))
    return table


def _waiting_lines(progress: CampaignProgress) -> list[Text]:
    if not progress.waiting:
        return []
    lines = [Text("waiting:", style="bold")]
    lines.extend(Text(f"  - {reason.text}") for reason in progress.waiting)
    return lines


def _ordered(counts: Mapping[BatchState, int]) -> list[tuple[BatchState, int]]:
    return [(s, counts[s]) for s in BatchState if counts.get(s)]


def _percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f} %" if total else "-"


def _stamp(at: datetime | None) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if at is not None else "-"


class RateMeter:
    """Recipients submitted per second over the last few refreshes, and the ETA it gives."""

    def __init__(self, samples: int = RATE_SAMPLES) -> None:
        self._seen: deque[tuple[float, int]] = deque(maxlen=samples + 1)

    def add(self, at: float, sent: int) -> None:
        self._seen.append((at, sent))

    def rate(self) -> float | None:
        """None until two refreshes were seen."""
        if len(self._seen) < 2:
            return None
        (t0, s0), (t1, s1) = self._seen[0], self._seen[-1]
        return max(s1 - s0, 0) / (t1 - t0) if t1 > t0 else None

    def eta(self, remaining: int) -> float | None:
        """Seconds until ``remaining`` recipients are sent at the current rate."""
        rate = self.rate()
        if remaining == 0:
            return 0.0
        return remaining / rate if rate else None


def sent(progress: CampaignProgress) -> int:
    """Recipients that left: every one but those still queued and the cancelled."""
    left = (RecipientStatus.QUEUED, RecipientStatus.CANCELLED)
    return sum(n for s, n in progress.by_status.items() if s not in left)


def _bar_counts(progress: CampaignProgress) -> dict[str, int]:
    counts = {s.value: n for s, n in progress.by_status.items()}
    return {"submitted": sent(progress)} | {b: counts.get(b, 0) for b in BARS[1:]}


def _speed(meter: RateMeter, progress: CampaignProgress) -> str:
    rate = meter.rate()
    queued = progress.by_status.get(RecipientStatus.QUEUED, 0)
    eta = meter.eta(queued)
    shown = f"{rate:.1f}/s" if rate is not None else "-/s"
    if eta == 0:
        return f"rate {shown}  all sent"
    return f"rate {shown}  ETA {duration_s(eta) if eta is not None else 'unknown'}"


def duration_s(seconds: float) -> str:
    return duration(timedelta(seconds=round(seconds)))


def plain_line(progress: CampaignProgress, meter: RateMeter) -> str:
    """One refresh of --watch when stdout is not a terminal."""
    total = progress.total
    counts = _bar_counts(progress)
    bars = " ".join(f"{k} {n}/{total}" for k, n in counts.items())
    line = f"{datetime.now(UTC):%H:%M:%S} campaign {progress.campaign_id} {progress.state.value}: "
    line += f"{bars}; {_speed(meter, progress)}"
    if progress.waiting:
        line += "; waiting: " + "; ".join(r.text for r in progress.waiting)
    return line


def _watch(campaign_id: int, interval: float, *, as_json: bool) -> int:
    """Refresh until the campaign settles; the exit code says how it ended."""
    from dispatcher import campaign_status

    meter = RateMeter()
    live_view = sys.stdout.isatty() and not as_json
    progress = campaign_status(campaign_id)
    try:
        if live_view:
            progress = _live(campaign_id, interval, meter, progress)
        else:
            while True:
                meter.add(time.monotonic(), sent(progress))
                if as_json:
                    click.echo(json.dumps(progress.as_dict()))
                else:
                    click.echo(plain_line(progress, meter))
                if progress.settled:
                    break
                time.sleep(interval)
                progress = campaign_status(campaign_id)
    except KeyboardInterrupt:
        click.echo(f"stopped watching campaign {campaign_id} (it goes on without you)", err=True)
        return 0
    _notes(progress)
    return EXIT_NEEDS_ATTENTION if progress.state is CampaignState.NEEDS_ATTENTION else 0


def _live(
    campaign_id: int, interval: float, meter: RateMeter, progress: CampaignProgress
) -> CampaignProgress:
    from dispatcher import campaign_status

    bars = Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
    )
    tasks = {name: bars.add_task(name, total=max(progress.total, 1)) for name in BARS}
    console = Console()
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            meter.add(time.monotonic(), sent(progress))
            for name, count in _bar_counts(progress).items():
                bars.update(tasks[name], completed=count, total=max(progress.total, 1))
            live.update(_live_view(progress, bars, meter))
            if progress.settled:
                return progress
            time.sleep(interval)
            progress = campaign_status(campaign_id)


def _live_view(progress: CampaignProgress, bars: Progress, meter: RateMeter) -> Group:
    lines: list[Text | Progress] = [_heading(progress), bars, Text(_speed(meter, progress))]
    lines.extend(_waiting_lines(progress))
    return Group(*lines)
