"""Why a campaign is not moving, in words: the pure half of ``services/waiting.py``.

A campaign that waits always waits for something the database or the circuit breaker already
records: its state (paused, scheduled), its send window, what each pending batch was handed
back for (``batches.last_outcome``), held and unknown batches, reconciliation, delivery
reports. The service reads those facts in the status snapshot; this module turns them into
reasons an operator reads without opening a log, each with a stable ``code`` for scripts and
the time it ends (``until``) when one is known. Times are written in UTC, except a send
window's opening, written in the window's own zone (that is how its rule is written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatcher.domain.statuses import BatchState, CampaignState

# ``last_outcome`` of a pending batch as persistence/waiting.py classifies it ("limiter": our
# own shared request-rate limit handed it back; the others are persistence/batches.py's).
WINDOW, PACED, PROVIDER_RATE, LIMITER, TRANSIENT = (
    "window", "paced", "rate-limited", "limiter", "transient"
)  # fmt: skip

PROVIDER_NAMES = {
    "smsmode": "sMsmode",
    "smsfactor": "SMSFactor",
    "envoyer": "Envoyer SMS Pro",
    "bulkgw": "the bulk gateway",
}


@dataclass(frozen=True)
class WaitingReason:
    code: str  # send_window, paused, rate_limited, circuit_open, scheduled, overdue_start,
    # needs_attention, retry_backoff, reconciling, awaiting_reports
    until: datetime | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        until = self.until.isoformat() if self.until is not None else None
        return {"code": self.code, "until": until, "text": self.text}


@dataclass(frozen=True)
class BatchGroup:
    """The campaign's unfinished batches of one kind: ``waiting_for`` classifies a pending
    batch, ``deferred`` says its due time is still ahead, ``reconciling`` an unknown batch
    still looked for. ``next_at``: the earliest due time (pending), next poll (submitted) or
    next reconciliation look (unknown)."""

    state: BatchState
    batches: int
    waiting_for: str | None = None
    deferred: bool = False
    reconciling: bool = False
    next_at: datetime | None = None
    last_code: str | None = None
    last_message: str | None = None


@dataclass(frozen=True)
class Circuit:
    """The account's circuit breaker, when open."""

    opened_at: datetime
    next_probe_at: datetime | None
    last_error: str = ""


@dataclass(frozen=True)
class Facts:
    campaign_id: int
    state: CampaignState
    provider: str
    send_at: datetime
    window: str | None
    groups: Sequence[BatchGroup] = ()
    circuit: Circuit | None = None
    paused: tuple[str, datetime] | None = None  # (actor, when) from the audit trail
    unknown_recipients: int = 0
    overdue_after: timedelta = timedelta(minutes=1)  # beat starts a due campaign within this


def reasons(facts: Facts, now: datetime) -> list[WaitingReason]:
    """Every reason the campaign waits at ``now``, the one that decides first."""
    if facts.state in (CampaignState.DONE, CampaignState.CANCELLED):
        return []
    if facts.state is CampaignState.PAUSED:
        return [_paused(facts)]
    if facts.state is CampaignState.SCHEDULED:
        return _scheduled(facts, now)
    found = [*_window(facts, now), *_circuit(facts), *_deferred(facts)]
    found += _stuck(facts)
    found += _reconciling(facts) + _reports(facts)
    return found


def _paused(facts: Facts) -> WaitingReason:
    resume = f"`dispatcher resume {facts.campaign_id}` sends the rest"
    if facts.paused is None:
        return WaitingReason("paused", None, f"paused by an operator: {resume}")
    actor, at = facts.paused
    return WaitingReason("paused", None, f"paused by {actor} at {utc_time(at, at)}: {resume}")


def _scheduled(facts: Facts, now: datetime) -> list[WaitingReason]:
    start = utc_time(facts.send_at, now)
    if facts.send_at > now:
        text = f"scheduled to start at {start} (in {duration(facts.send_at - now)})"
        return [WaitingReason("scheduled", facts.send_at, text)]
    late = now - facts.send_at
    if late <= facts.overdue_after:
        return []  # the sweeper starts it any moment
    text = f"scheduled start {start} is {duration(late)} overdue: is beat running?"
    return [WaitingReason("overdue_start", None, text)]


def _pending(facts: Facts) -> list[BatchGroup]:
    return [g for g in facts.groups if g.state is BatchState.PENDING]


def _window(facts: Facts, now: datetime) -> list[WaitingReason]:
    if facts.window is None or not _pending(facts):
        return []
    # Imported here: the holiday calendars cost a third of a second, which every importer of
    # domain.models (the CLI's other commands, the HTTP service) would pay.
    from dispatcher.domain.window import SendWindow

    window = SendWindow.parse(facts.window)
    if window.is_open(now):
        return []
    opens = window.next_open(now)
    text = f"waiting for its send window until {window_time(opens, window.timezone, now)}"
    return [WaitingReason("send_window", opens, text)]


def _circuit(facts: Facts) -> list[WaitingReason]:
    circuit = facts.circuit
    active = {BatchState.PENDING, BatchState.CLAIMED, BatchState.SUBMITTED}
    if circuit is None or not any(g.state in active for g in facts.groups):
        return []
    name = PROVIDER_NAMES.get(facts.provider, facts.provider)
    text = f"{name} circuit open since {utc_time(circuit.opened_at, circuit.opened_at)}"
    if circuit.next_probe_at is not None:
        text += f", next probe {utc_time(circuit.next_probe_at, circuit.opened_at)}"
    if circuit.last_error:
        text += f" (last error: {circuit.last_error})"
    return [WaitingReason("circuit_open", circuit.next_probe_at, text)]


def _deferred(facts: Facts) -> list[WaitingReason]:
    found: list[WaitingReason] = []
    later = [g for g in _pending(facts) if g.deferred]
    for kind in (PROVIDER_RATE, LIMITER, TRANSIENT):
        groups = [g for g in later if g.waiting_for == kind]
        if not groups:
            continue
        count = sum(g.batches for g in groups)
        until = min((g.next_at for g in groups if g.next_at is not None), default=None)
        at = utc_time(until, until) if until else "later"
        if kind == PROVIDER_RATE:
            found.append(WaitingReason("rate_limited", until, f"rate-limited by the provider "
                                       f"until {at} ({_batches(count)} waiting)"))  # fmt: skip
        elif kind == LIMITER:
            text = f"{_batches(count)} wait for the account's request-rate limit until {at}"
            found.append(WaitingReason("rate_limited", until, text))
        else:
            answer = _answer(groups)
            verb = "retries" if count == 1 else "retry"
            text = f"{_batches(count)} {verb} after {at}" + (f" ({answer})" if answer else "")
            found.append(WaitingReason("retry_backoff", until, text))
    return found


def _answer(groups: Sequence[BatchGroup]) -> str:
    sample = next((g for g in groups if g.last_code or g.last_message), None)
    if sample is None:
        return ""
    said = " ".join(p for p in (sample.last_code, sample.last_message) if p)
    return f"provider answered {said}"


def _stuck(facts: Facts) -> list[WaitingReason]:
    held = sum(g.batches for g in facts.groups if g.state is BatchState.HELD)
    unknown = sum(
        g.batches for g in facts.groups if g.state is BatchState.UNKNOWN and not g.reconciling
    )
    where = f"`dispatcher batches --state unknown --campaign {facts.campaign_id}`"
    if held or unknown:
        parts = [f"{n} {what}" for n, what in ((unknown, "unknown"), (held, "held")) if n]
        verb = "waits" if held + unknown == 1 else "wait"
        text = f"{_batches(held + unknown)} {verb} for an operator ({', '.join(parts)}): {where}"
        return [WaitingReason("needs_attention", None, text)]
    if facts.state is CampaignState.NEEDS_ATTENTION and facts.unknown_recipients:
        text = (
            f"{facts.unknown_recipients} recipient(s) of finished batches have an unknown "
            f"outcome and wait for an operator: {where}"
        )
        return [WaitingReason("needs_attention", None, text)]
    return []


def _reconciling(facts: Facts) -> list[WaitingReason]:
    groups = [g for g in facts.groups if g.state is BatchState.UNKNOWN and g.reconciling]
    if not groups:
        return []
    count = sum(g.batches for g in groups)
    until = min((g.next_at for g in groups if g.next_at is not None), default=None)
    text = (
        f"{_batches(count)} with an unknown outcome: reconciliation is looking for "
        f"{'it' if count == 1 else 'them'} in the provider's records"
    )
    if until is not None:
        text += f" (next look {utc_time(until, until)})"
    return [WaitingReason("reconciling", until, text)]


def _reports(facts: Facts) -> list[WaitingReason]:
    groups = [g for g in facts.groups if g.state is BatchState.SUBMITTED]
    if not groups:
        return []
    count = sum(g.batches for g in groups)
    until = min((g.next_at for g in groups if g.next_at is not None), default=None)
    verb = "waits" if count == 1 else "wait"
    text = f"{_batches(count)} {verb} for delivery reports"
    if until is not None:
        text += f" (next poll {utc_time(until, until)})"
    return [WaitingReason("awaiting_reports", until, text)]


def _batches(count: int) -> str:
    return f"{count} batch" + ("" if count == 1 else "es")


def utc_time(at: datetime, now: datetime) -> str:
    """21:05:12 UTC within a day of ``now``, else with its date."""
    at = at.astimezone(UTC)
    if abs(at - now) < timedelta(hours=20):
        return f"{at:%H:%M:%S} UTC"
    return f"{at:%a %d %b %H:%M} UTC"


def window_time(at: datetime, zone: str, now: datetime) -> str:
    """Sat 08:00 Europe/Paris within the week, else with its date."""
    local = at.astimezone(ZoneInfo(zone))
    if at - now < timedelta(days=6):
        return f"{local:%a %H:%M} {zone}"
    return f"{local:%a %d %b %H:%M} {zone}"


def duration(span: timedelta) -> str:
    """45 s, 3 min, 2 h 5 min, 3 d 4 h: how long, as an operator says it."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"
