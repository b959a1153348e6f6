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
from dispatcher.persistence.rows import to_batch


def create_batches(conn: Connection, campaign_id: int, due_at: datetime) -> list[int]:
    """One batch per batch number of the campaign's recipients; idempotent."""
    rows = conn.execute(
        text(
            """
            INSERT INTO batches (campaign_id, seq, size, state, due_at, published_at)
            SELECT campaign_id, batch_seq, count(*), 'pending', :due_at, now()
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
    None when someone else has it."""
    row = (
        conn.execute(
            text(
                """
            UPDATE batches b SET state = 'claimed', worker = :worker,
                   lease_until = now() + :lease, updated_at = now()
            FROM campaigns c
            WHERE b.id = :id AND b.state = 'pending' AND b.due_at <= :now
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
    conn: Connection, batch_id: int, worker: str, due_at: datetime, *, reason: str | None = None
) -> bool:
    """claimed -> pending, due again at ``due_at`` (nothing was sent)."""
    return _update(
        conn,
        "state = 'pending', worker = NULL, lease_until = NULL, published_at = NULL, "
        "due_at = :due_at, last_message = coalesce(:reason, last_message)",
        "id = :id AND state = 'claimed' AND worker = :worker",
        id=batch_id,
        worker=worker,
        due_at=due_at,
        reason=reason,
    )


def mark_sending(conn: Connection, batch_id: int, worker: str, lease: timedelta) -> int | None:
    """claimed -> sending, committed just before the request. Returns the attempt number."""
    return conn.execute(
        text(
            "UPDATE batches SET state = 'sending', attempts = attempts + 1, "
            "lease_until = now() + :lease, updated_at = now() "
            "WHERE id = :id AND state = 'claimed' AND worker = :worker RETURNING attempts"
        ),
        {"id": batch_id, "worker": worker, "lease": lease},
    ).scalar_one_or_none()


# The request's answer may arrive after the reaper marked the batch unknown; the answer is
# better knowledge than the guess, so results are accepted from both states.
_AFTER_SEND = "id = :id AND attempts = :attempt AND state IN ('sending', 'unknown')"


def record_accepted(
    conn: Connection,
    batch_id: int,
    attempt: int,
    *,
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
        ref=provider_ref,
        code=code,
        msg=message,
        first_poll=first_poll,
        poll_until=poll_until,
        interval=poll_interval,
    )


def record_retry(
    conn: Connection,
    batch_id: int,
    attempt: int,
    *,
    due_at: datetime,
    code: str | None,
    message: str,
    count_attempt: bool = True,
) -> bool:
    """sending -> pending, due again at ``due_at``. A refusal for the provider's request rate
    does not count as an attempt (``count_attempt=False``): it says nothing about the batch."""
    return _update(
        conn,
        "state = 'pending', worker = NULL, lease_until = NULL, published_at = NULL, "
        "due_at = :due_at, last_outcome = 'transient', last_code = :code, last_message = :msg, "
        "attempts = attempts - :refund",
        _AFTER_SEND,
        id=batch_id,
        attempt=attempt,
        due_at=due_at,
        code=code,
        msg=message,
        refund=0 if count_attempt else 1,
    )


def record_stopped(
    conn: Connection,
    batch_id: int,
    attempt: int,
    *,
    state: BatchState,
    outcome: str,
    code: str | None,
    message: str,
) -> bool:
    """sending -> failed, unknown or held: the batch stops until an operator or a report acts."""
    finished = "now()" if state is BatchState.FAILED else "NULL"
    return _update(
        conn,
        f"state = :state, worker = NULL, lease_until = NULL, last_outcome = :outcome, "
        f"last_code = :code, last_message = :msg, finished_at = {finished}",
        _AFTER_SEND,
        id=batch_id,
        attempt=attempt,
        state=state.value,
        outcome=outcome,
        code=code,
        msg=message,
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
    provider_ref: str
    poll_interval: int
    poll_until: datetime | None


def poll_target(conn: Connection, batch_id: int) -> PollTarget | None:
    row = conn.execute(
        text(
            "SELECT b.id, b.campaign_id, b.seq, c.account, b.provider_ref, b.poll_interval, "
            "b.poll_until FROM batches b JOIN campaigns c ON c.id = b.campaign_id "
            "WHERE b.id = :id AND b.state = 'submitted' AND b.provider_ref IS NOT NULL"
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
    )


def schedule_poll(
    conn: Connection, batch_id: int, next_poll_at: datetime | None, interval: int
) -> None:
    conn.execute(
        text(
            "UPDATE batches SET next_poll_at = :at, poll_interval = :interval, polls = polls + 1, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": batch_id, "at": next_poll_at, "interval": interval},
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


def _update(conn: Connection, assignments: str, where: str, **params: Any) -> bool:
    result = conn.execute(
        text(f"UPDATE batches SET {assignments}, updated_at = now() WHERE {where}"),  # noqa: S608
        params,
    )
    return result.rowcount == 1
