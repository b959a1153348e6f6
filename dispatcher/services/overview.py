"""What operators read to find their way: campaigns newest first, the batches waiting for a
person, and one batch with everything needed to decide about it (``dispatcher campaigns``,
``dispatcher batches``, ``dispatcher batch show``). Read-only, each from one snapshot so that
a state and its counts agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dispatcher.errors import NotFoundError
from dispatcher.persistence import audit, operator_views, reconcile
from dispatcher.persistence.operator_views import WAITING_STATES
from dispatcher.services.deps import Deps


def campaigns_page(
    deps: Deps,
    *,
    states: Sequence[str] = (),
    account: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    with deps.db.snapshot() as conn:
        return operator_views.list_campaigns(
            conn, states=states, account=account, since=since, until=until, limit=limit
        )


def waiting_batches(
    deps: Deps,
    *,
    states: Sequence[str] = WAITING_STATES,
    campaign_id: int | None = None,
    account: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    with deps.db.snapshot() as conn:
        return operator_views.list_batches(
            conn, states=states, campaign_id=campaign_id, account=account, limit=limit
        )


# The batch's columns shown under "times", in the order a batch lives them.
TIMES = (
    "created_at",
    "due_at",
    "published_at",
    "sending_at",
    "submitted_at",
    "lease_until",
    "next_poll_at",
    "poll_until",
    "finished_at",
    "updated_at",
)


def batch_report(deps: Deps, batch_id: int) -> dict[str, Any]:
    """One batch as an operator decides on it: its campaign, state, attempts, times, the
    provider's last answer, its recipients by status (and by the provider's code), its
    reconciliation with the evidence found, and the audit entries of this batch."""
    with deps.db.snapshot() as conn:
        row = operator_views.batch_detail(conn, batch_id)
        if row is None:
            raise NotFoundError(f"no batch {batch_id}")
        found = reconcile.reconciliation(conn, batch_id)
        counts = operator_views.batch_recipient_counts(conn, row["campaign_id"], row["seq"])
        answers = operator_views.batch_provider_answers(conn, row["campaign_id"], row["seq"])
        entries = audit.for_batch(conn, batch_id)
    return {
        "id": row["id"],
        "campaign_id": row["campaign_id"],
        "campaign_state": row["campaign_state"],
        "account": row["account"],
        "provider": row["provider"],
        "seq": row["seq"],
        "size": row["size"],
        "state": row["state"],
        "attempts": row["attempts"],
        "retries": row["retries"],
        "polls": row["polls"],
        "poll_failures": row["poll_failures"],
        "worker": row["worker"],
        "times": {name: row[name] for name in TIMES},
        "provider_answer": {
            "outcome": row["last_outcome"],
            "code": row["last_code"],
            "message": row["last_message"],
            "provider_ref": row["provider_ref"],
        },
        "recipients": counts,
        "recipients_by_answer": answers,
        "reconciliation": {
            "state": found.state if found else None,
            "tries": found.tries if found else 0,
            "next_check": found.after if found else None,
            "evidence": found.evidence if found else [],
        },
        "audit": [e.as_dict() for e in entries],
    }
