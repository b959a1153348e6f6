"""Two records of one campaign, compared: what the sandbox says it accepted, and what the
dispatcher's database believes.

The sandbox keeps its own record of every accepted submission (DESIGN 4.5): it is the
provider's truth. Checked per recipient, as the issue states them:

- accepted at most once (a second acceptance is a duplicate SMS on someone's phone);
- in exactly one final state, and a true one: not ``queued``/``submitted`` at the end (lost),
  not ``delivered``/``expired`` when the provider never had it (phantom), not ``failed`` by
  our own decision or ``cancelled`` when the provider had accepted it (sent but failed);
- ``unknown`` only with its evidence: its batch stopped as ``unknown`` (or ``held``) with the
  reason written, and reconciliation (``batches.reconcile_state``, migration 0016) has looked
  at the provider's records and could not place it (``unplaced``) or cannot look
  (``unsupported``); one never reconciled, or still being reconciled, is silent.

and per campaign: ``needs_attention`` exactly when an unknown or held batch or an unknown
recipient remains, else ``done``; no batch left pending, claimed, sending or submitted.

SQL here reads the tables directly (a test's view from outside, like tests/integration/helpers).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy.exc
from sqlalchemy import text

from dispatcher.persistence.database import Database

ACTIVE_BATCH = ("pending", "claimed", "sending", "submitted")
STOPPED_FOR_OPERATOR = ("unknown", "held")
RECONCILED = ("unplaced", "unsupported")  # what reconciliation ends an unknown batch with
SETTLED_CAMPAIGN = ("done", "needs_attention", "cancelled")
# Statuses that only a report from the provider can give.
REPORTED = ("delivered", "expired")
OUR_OWN_FAILURE = ("submit", "deadline", "reaper", "operator")


@dataclass(frozen=True)
class Run:
    """One campaign of a scenario and where to find it in each record."""

    campaign_id: int
    provider: str  # the sandbox's provider name
    marker: str  # in its text: its submissions in the sandbox's record
    started: float  # time.monotonic() when it was enqueued


@dataclass
class Row:
    """One scenario's line of the table (summed over its campaigns)."""

    scenario: str
    recipients: int = 0
    accepted_once: int = 0
    duplicates: int = 0
    lost: int = 0
    unknown_before: int = 0
    unknown_after: int = 0
    seconds_to_final: float | None = None  # the slowest campaign; None: not all final
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what else the scenario measured

    def add(self, other: Row) -> None:
        self.recipients += other.recipients
        self.accepted_once += other.accepted_once
        self.duplicates += other.duplicates
        self.lost += other.lost
        self.unknown_before += other.unknown_before
        self.unknown_after += other.unknown_after
        self.violations += other.violations


def accepted_counts(sandbox: httpx.Client, run: Run) -> Counter[str]:
    """Per number, how many of the sandbox's live (not deleted) submissions name it."""
    answer = sandbox.get(
        "/_sandbox/submissions", params={"provider": run.provider, "text_contains": run.marker}
    )
    answer.raise_for_status()
    counts: Counter[str] = Counter()
    for sub in answer.json()["submissions"]:
        if not sub["deleted"]:
            counts.update(sub["numbers"])
    return counts


def wait_final(db: Database, runs: list[Run], timeout: float) -> float | None:
    """Seconds from the first enqueue until every campaign is settled with no batch still in
    work (polled every 0.25 s, through database restarts); None after ``timeout``."""
    start = min(r.started for r in runs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all(_is_final(db, r.campaign_id) for r in runs):
                return time.monotonic() - start
        except sqlalchemy.exc.DBAPIError:
            pass  # the database is down for this scenario: ask again
        time.sleep(0.25)
    return None


def _is_final(db: Database, campaign_id: int) -> bool:
    with db.transaction() as conn:
        state = conn.execute(
            text("SELECT state FROM campaigns WHERE id = :c"), {"c": campaign_id}
        ).scalar_one()
        active = conn.execute(
            text("SELECT count(*) FROM batches WHERE campaign_id = :c AND state = ANY(:a)"),
            {"c": campaign_id, "a": list(ACTIVE_BATCH)},
        ).scalar_one()
    return state in SETTLED_CAMPAIGN and active == 0


def compare(db: Database, sandbox: httpx.Client, run: Run, scenario: str) -> Row:
    """The row of one campaign, with a line per broken promise in ``violations``."""
    accepted = accepted_counts(sandbox, run)
    state, recipients, batches = _database_view(db, run.campaign_id)
    row = Row(scenario)
    problems: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for r in recipients:
        times = accepted.get(r["msisdn"], 0)
        row.recipients += 1
        row.accepted_once += times == 1
        row.unknown_before += bool(r["was_unknown"])
        row.unknown_after += r["status"] == "unknown"
        for kind in _recipient_problems(r, times, batches.get(r["batch_seq"], {})):
            problems[kind] += 1
            examples.setdefault(kind, f"{r['msisdn']} ({r['status']}, accepted {times}x)")
    row.duplicates = problems["duplicate"]
    row.lost = sum(n for kind, n in problems.items() if kind != "duplicate")
    strangers = set(accepted) - {r["msisdn"] for r in recipients}
    if strangers:
        problems["accepted but not a recipient"] = len(strangers)
        examples["accepted but not a recipient"] = sorted(strangers)[0]
    prefix = f"campaign {run.campaign_id} ({run.provider})"
    row.violations = [
        f"{prefix}: {n} {kind}, e.g. {examples[kind]}" for kind, n in problems.items()
    ]
    row.violations += [f"{prefix}: {v}" for v in _campaign_problems(state, recipients, batches)]
    return row


def _recipient_problems(r: dict[str, Any], times: int, batch: dict[str, Any]) -> list[str]:
    status, source = r["status"], r["final_source"]
    found = []
    if times > 1:
        found.append("duplicate")
    if status in ("queued", "submitted"):
        found.append(f"lost (still {status})")
    if times == 0 and (
        status in REPORTED or (status == "failed" and source in ("poll", "callback", "horizon"))
    ):
        found.append("phantom (a report for a message never accepted)")
    if times >= 1 and (status == "cancelled" or (status == "failed" and source in OUR_OWN_FAILURE)):
        found.append("sent but marked failed/cancelled")
    if status == "unknown" and _silent_unknown(batch):
        found.append("unknown without evidence")
    return found


def _silent_unknown(batch: dict[str, Any]) -> bool:
    """An unknown recipient needs its batch stopped for it, with the reason written, and, for
    an unknown batch, reconciliation's last word."""
    if batch.get("state") not in STOPPED_FOR_OPERATOR or not batch.get("last_message"):
        return True
    return batch["state"] == "unknown" and batch.get("reconcile_state") not in RECONCILED


def _campaign_problems(
    state: str, recipients: list[dict[str, Any]], batches: dict[int, dict[str, Any]]
) -> list[str]:
    found = []
    stuck = Counter(b["state"] for b in batches.values() if b["state"] in ACTIVE_BATCH)
    if stuck:
        found.append(f"batches left in work: {dict(stuck)}")
    attention = any(b["state"] in STOPPED_FOR_OPERATOR for b in batches.values()) or any(
        r["status"] == "unknown" for r in recipients
    )
    expected = "needs_attention" if attention else "done"
    if state != expected:
        found.append(f"campaign state {state!r}, expected {expected!r}")
    return found


def _database_view(
    db: Database, campaign_id: int
) -> tuple[str, list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The campaign's state, its recipients (with whether an ``unknown`` was ever logged and the
    source of the event that gave the current status), and its batches by seq."""
    params = {"c": campaign_id}
    with db.snapshot() as conn:
        state = conn.execute(text("SELECT state FROM campaigns WHERE id = :c"), params).scalar_one()
        recipients = conn.execute(
            text(
                """
                SELECT r.msisdn, r.status, r.batch_seq,
                       EXISTS (SELECT 1 FROM delivery_events e
                               WHERE e.campaign_id = :c AND e.recipient_id = r.id
                                 AND e.status = 'unknown') AS was_unknown,
                       (SELECT e.source FROM delivery_events e
                        WHERE e.campaign_id = :c AND e.recipient_id = r.id
                          AND e.status = r.status
                        ORDER BY e.id DESC LIMIT 1) AS final_source
                FROM recipients r WHERE r.campaign_id = :c
                """
            ),
            params,
        ).mappings()
        recipient_rows = [dict(r) for r in recipients]
        batches = conn.execute(
            text(
                "SELECT seq, state, last_message, reconcile_state FROM batches "
                "WHERE campaign_id = :c"
            ),
            params,
        ).mappings()
        batch_rows = {b["seq"]: dict(b) for b in batches}
    return state, recipient_rows, batch_rows


COLUMNS = (
    "scenario",
    "recipients",
    "accepted once",
    "duplicates",
    "lost",
    "unknown before",
    "unknown after",
    "time to all final (s)",
)


def markdown_table(rows: list[Row]) -> str:
    """The issue's table; violations listed under it."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        final = "not final" if row.seconds_to_final is None else f"{row.seconds_to_final:.1f}"
        cells = [
            row.scenario,
            row.recipients,
            row.accepted_once,
            row.duplicates,
            row.lost,
            row.unknown_before,
            row.unknown_after,
            final,
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    for row in rows:
        lines += [f"- {row.scenario}: {n}" for n in row.notes]
        lines += [f"- {row.scenario}: VIOLATION {v}" for v in row.violations]
    return "\n".join(lines)
