"""Batch rows: create in a set, claim, mark as being sent, record outcomes, schedule polls.

Every change is a conditional UPDATE on the state the caller expects, so a task delivered
twice, a late worker or a concurrent reaper finds nothing to do instead of doing it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from dispatcher.domain.models import Batch
from dispatcher.domain.statuses import BatchState
from dispatcher.persistence.reconcile import INTO_UNKNOWN
from dispatcher.persistence.rows import to_batch
from dispatcher.redact import scrub_stored


def create_batches(conn: Connection, campaign_id: int, due_at: datetime) -> list[int]:
    """One batch per batch number of the campaign's recipients; idempotent. None is marked
    published: ``publish_next`` opens the campaign's window of queued batches."""
    rows = conn.execute(
        text(
            """
            INSERT INTO batches (campaign_id, seq, size, state, due_at)
            SELECT campaign_id, batch_seq, count(*), 'pending', :due_at
            FROM recipients WHERE campaign_id = :c
            GROUP BY campaign_id, batch_seq
            ORDER BY batch_seq
            ON CONFLICT (campaign_id, seq) DO NOTHING
            RETURNING id
            """
        ),
        {"c": campaign_id, "due_at": due_at},
    )
    return [r.id for r in rows]


# A batch waiting in the submit queue: pending, with a message published less than
# ``republish_after`` ago (an older one is taken as lost and published again). Claimed and
# sending batches have left the queue. Fairness counts these per campaign (``publish_next``).
QUEUED = "state = 'pending' AND published_at >= :now - :after"


def publish_next(
    conn: Connection, campaign_id: int, now: datetime, *, window: int, republish_after: timedelta
) -> list[int]:
    """The campaign's next due pending batches with no live message, as many as bring its
    queued batches up to ``window``, marked published; the caller publishes them after commit.
    In due order, then in the campaign's order. Claims of one campaign running at the same
    instant may each add one (their counts do not see each other): the window is then exceeded
    by that many until those messages are taken, never more.

    Each part reads about a window of rows (migration 0022): the next due batches through
    batches_pending, the queued count through batches_queued, the update by primary key
    (``= ANY(ARRAY(...))``: as ``IN (...)`` the planner guessed the LIMIT's size from the
    count it cannot know, and at 20,000 batches hash-joined a scan of the whole table)."""
    rows = conn.execute(
        text(
            f"""
            UPDATE batches SET published_at = now()
            WHERE id = ANY(ARRAY(
                SELECT id FROM batches
                WHERE campaign_id = :c AND state = 'pending' AND due_at <= :now
                  AND (published_at IS NULL OR published_at < :now - :after)
                ORDER BY due_at, id
                LIMIT greatest(0, :window - (
                    SELECT count(*) FROM batches WHERE campaign_id = :c AND {QUEUED}))
                FOR UPDATE SKIP LOCKED))
            RETURNING id
            """  # noqa: S608 (a constant of this module)
        ),
        {"c": campaign_id, "now": now, "after": republish_after, "window": window},
    )
    return sorted(r.id for r in rows)


def get_batch(conn: Connection, batch_id: int) -> Batch | None:
    row = (
        conn.execute(text("SELECT * FROM batches WHERE id = :id"), {"id": batch_id})
        .mappings()
        .first()
    )
    return to_batch(row) if row else None


def claim(
    conn: Connection, batch_id: int, worker: str, lease: timedelta, now: datetime
) -> Batch | None:
    """pending and due at ``now`` (the service's clock), of a running campaign -> claimed.
    None when someone else has it. A batch this worker already claimed is claimed again: the
    unit is retried across a database restart (``Database.run``), and a commit whose
    acknowledgement was lost must not leave the batch idle until its claim lease ends. Nothing
    is ever sent from a claim, so taking one's own claim again is always safe."""
    row = (
        conn.execute(
            text(
                """
            UPDATE batches b SET state = 'claimed', worker = :worker,
                   lease_until = now() + :lease, updated_at = now()
            FROM campaigns c
            WHERE b.id = :id
              AND (b.state = 'pending' AND b.due_at <= :now
                   OR b.state = 'claimed' AND b.worker = :worker)
              AND c.id = b.campaign_id AND c.state = 'running'
            RETURNING b.*
            """
            ),
            {"id": batch_id, "worker": worker, "lease": lease, "now": now},
        )
        .mappings()
        .first()
    )
    return to_batch(row) if row else None


def release(
    conn: Connection,
    batch_id: int,
    worker: str,
    due_at: datetime,
    *,
    reason: str | None = None,
    waiting_for: str | None = None,
) -> bool:
    """claimed -> pending, due again at ``due_at`` (nothing was sent). ``waiting_for`` (e.g.
    WAITING_FOR_WINDOW) replaces ``last_outcome``, which the send deadline reads; None keeps
    it (a rate-limit wait after a transient answer is still a wait on the provider)."""
    return _update(
        conn,
        "state = 'pending', worker = NULL, lease_until = NULL, published_at = NULL, "
        "due_at = :due_at, last_message = coalesce(:reason, last_message), "
        "last_outcome = coalesce(:waiting_for, last_outcome)",
        "id = :id AND state = 'claimed' AND worker = :worker",
        id=batch_id,
        worker=worker,
        due_at=due_at,
        reason=reason,
        waiting_for=waiting_for,
    )


def mark_sending(
    conn: Connection, batch_id: int, worker: str, lease: timedelta, *, claimed_attempts: int
) -> int | None:
    """claimed -> sending, committed just before the request. Returns the attempt number, or
    None when the claim was lost (the reaper released it).

    ``claimed_attempts`` is the batch's ``attempts`` as claimed. The unit is retried across a
    database restart, so this statement recognises its own commit whose acknowledgement was
    lost (already ``sending``, by this worker, at the next attempt) and answers the same
    attempt again, instead of None, which would strand the batch in ``sending``."""
    return conn.execute(
        text(
            "UPDATE batches SET state = 'sending', attempts = :attempts + 1, "
            "lease_until = now() + :lease, updated_at = now(), "
            # When the request started: where reconciliation looks (persistence/reconcile.py).
            "sending_at = CASE WHEN state = 'claimed' THEN now() ELSE sending_at END "
            "WHERE id = :id AND worker = :worker "
            "AND (state = 'claimed' AND attempts = :attempts "
            "OR state = 'sending' AND attempts = :attempts + 1) RETURNING attempts"
        ),
        {"id": batch_id, "worker": worker, "lease": lease, "attempts": claimed_attempts},
    ).scalar_one_or_none()


# The request's answer may arrive after the reaper marked the batch unknown; the answer is
# better knowledge than the guess, so results are accepted from both states. In ``sending`` the
# batch must still be the sender's: a transient answer gives its attempt back, so the same
# attempt number may be another worker's send by the time a write retried across a database
# restart runs again, and that send must not be touched.
_AFTER_SEND = (
    "id = :id AND attempts = :attempt "
    "AND (state = 'unknown' OR state = 'sending' AND worker = :worker)"
)


def record_accepted(
    conn: Connection,
    batch_id: int,
    attempt: int,
    *,
    worker: str,
    provider_ref: str | None,
    code: str | None,
    message: str,
    first_poll: datetime | None,
    poll_until: datetime | None,
    poll_interval: int,
) -> bool:
    return _update(
        conn,
        "state = 'submitted', provider_ref = :ref, submitted_at = now(), worker = NULL, "
        "lease_until = NULL, last_outcome = 'accepted', last_code = :code, last_message = :msg, "
        "next_poll_at = :first_poll, poll_until = :poll_until, poll_interval = :interval",
        _AFTER_SEND,
        id=batch_id,
        attempt=attempt,
        worker=worker,
        ref=provider_ref,
        code=code,
        msg=message,
        first_poll=first_poll,
        poll_until=poll_until,
        interval=poll_interval,
    )


# What a pending batch waits for, kept in ``last_outcome``. The campaign's send deadline
# (persistence/maintenance.py::fail_overdue) fails only batches waiting on a provider that
# answered "not now"; a send window or the provider's request rate is a wait by design.
WAITING_FOR_PROVIDER = "transient"
WAITING_FOR_BREAKER = "paced"  # the provider account's circuit breaker is open (plan stage 4)
WAITING_FOR_RATE = "rate-limited"
WAITING_FOR_WINDOW = "window"


def record_retry(
    conn: Connection,
    batch_id: int,
    attempt: int,
    *,
    worker: str,
    due_at: datetime,
    code: str | None,
    message: str,
    waiting_for: str = WAITING_FOR_PROVIDER,
) -> bool:
    """sending -> pending, due again at ``due_at``, the attempt given back: the answer proved
    nothing was sent, so it is paced, never counted (docs/design-rules.md 1.9), and a provider
    down for hours never uses a batch up. A transient answer adds one to ``retries``, which grows
    the backoff; the provider's request limit (``WAITING_FOR_RATE``) says nothing about the batch
    and adds nothing."""
    return _update(
        conn,
        "state = 'pending', worker = NULL, lease_until = NULL, published_at = NULL, "
        "due_at = :due_at, last_outcome = :waiting_for, last_code = :code, last_message = :msg, "
        "attempts = attempts - 1, retries = retries + :retry",
        _AFTER_SEND,
        id=batch_id,
        attempt=attempt,
        worker=worker,
        due_at=due_at,
        code=code,
        msg=message,
        waiting_for=waiting_for,
        retry=1 if waiting_for == WAITING_FOR_PROVIDER else 0,
    )


def record_stopped(
    conn: Connection,
    batch_id: int,
    attempt: int,
    *,
    worker: str,
    state: BatchState,
    outcome: str,
    code: str | None,
    message: str,
) -> bool:
    """sending -> failed, unknown or held: the batch stops until an operator or a report acts."""
    finished = "now()" if state is BatchState.FAILED else "NULL"
    # An unknown batch enters reconciliation in this same statement (persistence/reconcile.py).
    into = f", {INTO_UNKNOWN}" if state is BatchState.UNKNOWN else ""
    return _update(
        conn,
        f"state = :state, worker = NULL, lease_until = NULL, last_outcome = :outcome, "
        f"last_code = :code, last_message = :msg, finished_at = {finished}{into}",
        _AFTER_SEND,
        id=batch_id,
        attempt=attempt,
        worker=worker,
        state=state.value,
        outcome=outcome,
        code=code,
        msg=message,
        reason=message,
    )


def set_state(
    conn: Connection, batch_id: int, to: BatchState, *, from_states: set[BatchState], **values: Any
) -> bool:
    assignments = ", ".join(["state = :to"] + [f"{k} = :{k}" for k in values])
    return _update(
        conn,
        assignments,
        "id = :id AND state = ANY(:from_states)",
        id=batch_id,
        to=to.value,
        from_states=[s.value for s in from_states],
        **values,
    )


@dataclass(frozen=True)
class PollTarget:
    batch_id: int
    campaign_id: int
    seq: int
    account: str
    provider_ref: str | None  # None: nothing to read (push-only), only the horizon's step
    poll_interval: int
    poll_until: datetime | None
    poll_failures: int = 0  # failed polls in a row: the poll backoff's counter


def poll_target(conn: Connection, batch_id: int) -> PollTarget | None:
    """A submitted batch's tracking: polled when it has the provider's reference and the
    provider can be polled, else (push-only) only its horizon is due (services/track.py)."""
    row = conn.execute(
        text(
            "SELECT b.id, b.campaign_id, b.seq, c.account, b.provider_ref, b.poll_interval, "
            "b.poll_until, b.poll_failures FROM batches b JOIN campaigns c ON c.id = b.campaign_id "
            "WHERE b.id = :id AND b.state = 'submitted'"
        ),
        {"id": batch_id},
    ).first()
    if row is None:
        return None
    return PollTarget(
        row.id,
        row.campaign_id,
        row.seq,
        row.account,
        row.provider_ref,
        row.poll_interval or 0,
        row.poll_until,
        row.poll_failures,
    )


def schedule_poll(
    conn: Connection,
    batch_id: int,
    next_poll_at: datetime | None,
    interval: int,
    *,
    failed: bool | None = None,
) -> None:
    """The next poll's time and interval. ``failed``: True adds one to ``poll_failures`` (the
    poll did not read the reports), False resets it (a successful read), None keeps it (a wait
    that says nothing about the provider, such as the request-rate limit)."""
    conn.execute(
        text(
            "UPDATE batches SET next_poll_at = :at, poll_interval = :interval, polls = polls + 1, "
            "poll_failures = CASE WHEN CAST(:failed AS boolean) IS NULL THEN poll_failures "
            "WHEN CAST(:failed AS boolean) THEN poll_failures + 1 ELSE 0 END, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": batch_id, "at": next_poll_at, "interval": interval, "failed": failed},
    )


def finish(conn: Connection, batch_id: int, message: str | None = None) -> bool:
    """submitted -> done: every recipient is final, or reports can no longer come."""
    return _update(
        conn,
        "state = 'done', finished_at = now(), next_poll_at = NULL, "
        "last_message = coalesce(:msg, last_message)",
        "id = :id AND state = 'submitted'",
        id=batch_id,
        msg=message,
    )


def id_at(conn: Connection, campaign_id: int, seq: int) -> int | None:
    """The id of a campaign's batch number ``seq`` (unique per campaign)."""
    return conn.execute(
        text("SELECT id FROM batches WHERE campaign_id = :c AND seq = :s"),
        {"c": campaign_id, "s": seq},
    ).scalar_one_or_none()


def find_by_provider_ref(conn: Connection, account: str, provider_ref: str) -> Batch | None:
    row = (
        conn.execute(
            text(
                "SELECT b.* FROM batches b JOIN campaigns c ON c.id = b.campaign_id "
                "WHERE b.provider_ref = :ref AND c.account = :account"
            ),
            {"ref": provider_ref, "account": account},
        )
        .mappings()
        .first()
    )
    return to_batch(row) if row else None


def cancel_unsent(conn: Connection, campaign_id: int) -> int:
    """A cancelled campaign's batches that nothing was sent from (pending, or held for an
    operator) -> cancelled, in one statement; returns how many. Batches a worker holds
    (claimed, sending) or a provider has (submitted) are left to their own paths."""
    return conn.execute(
        text(
            "UPDATE batches SET state = 'cancelled', finished_at = now(), updated_at = now() "
            "WHERE campaign_id = :c AND state IN ('pending', 'held')"
        ),
        {"c": campaign_id},
    ).rowcount


@dataclass(frozen=True)
class AtProvider:
    batch_id: int
    seq: int
    provider_ref: str  # the provider's reference, what its cancel request names


def submitted_with_ref(conn: Connection, campaign_id: int) -> list[AtProvider]:
    """The campaign's submitted batches that carry the provider's reference: those a provider
    holding them for a later send time can still delete."""
    rows = conn.execute(
        text(
            "SELECT id, seq, provider_ref FROM batches WHERE campaign_id = :c "
            "AND state = 'submitted' AND provider_ref IS NOT NULL ORDER BY seq"
        ),
        {"c": campaign_id},
    )
    return [AtProvider(r.id, r.seq, r.provider_ref) for r in rows]


def wake_paced(
    conn: Connection, account: str, now: datetime, *, window: int, republish_after: timedelta
) -> list[int]:
    """The account's pending batches that wait on the provider (its circuit breaker, or a
    transient answer's backoff) -> due at ``now``; each campaign's window of them marked
    published and returned (``publish_next``), the rest following as claims take those: the
    provider answers again (services/outage.py::wake publishes them), and a big campaign's
    thousand waiting batches must not all go to the queue ahead of the others."""
    rows = conn.execute(
        text(
            """
            UPDATE batches b SET due_at = :now, updated_at = now()
            FROM campaigns c
            WHERE c.id = b.campaign_id AND c.account = :account AND c.state = 'running'
              AND b.state = 'pending' AND b.last_outcome IN (:breaker, :provider)
            RETURNING b.campaign_id
            """
        ),
        {
            "now": now,
            "account": account,
            "breaker": WAITING_FOR_BREAKER,
            "provider": WAITING_FOR_PROVIDER,
        },
    )
    woken = sorted({r.campaign_id for r in rows})
    published = [
        batch_id
        for campaign_id in woken
        for batch_id in publish_next(
            conn, campaign_id, now, window=window, republish_after=republish_after
        )
    ]
    return sorted(published)


def wake_polls(
    conn: Connection, account: str, now: datetime, *, until: datetime, lease: timedelta
) -> list[int]:
    """The account's polls that wait on the provider -> published now: those due by ``until``
    (the longest wait a circuit breaker gives) and those backing off after failed reads. Their
    next poll moves a lease ahead, as the sweeper's do."""
    rows = conn.execute(
        text(
            """
            UPDATE batches b SET next_poll_at = :now + :lease, updated_at = now()
            FROM campaigns c
            WHERE c.id = b.campaign_id AND c.account = :account AND b.state = 'submitted'
              AND b.next_poll_at > :now AND (b.next_poll_at <= :until OR b.poll_failures > 0)
            RETURNING b.id
            """
        ),
        {"now": now, "account": account, "until": until, "lease": lease},
    )
    return sorted(r.id for r in rows)


def _update(conn: Connection, assignments: str, where: str, **params: Any) -> bool:
    # The storage line of dispatcher/redact.py: a provider's text is masked again here.
    for key in ("msg", "reason"):
        if key in params:
            params[key] = scrub_stored(params[key])
    result = conn.execute(
        text(f"UPDATE batches SET {assignments}, updated_at = now() WHERE {where}"),  # noqa: S608
        params,
    )
    return result.rowcount == 1
