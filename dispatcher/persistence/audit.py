"""The audit trail: who paused, resumed, cancelled, resolved, re-sent or archived what.

``record`` is called with the connection of the change it describes, so an entry commits
exactly when the change does (a refused or rolled-back action leaves no entry). The actor is
``key:<api key name>`` or ``os:<user>`` (services/actor.py): a name, never a credential.
``detail`` holds counts and the reason an operator gave; what an operator typed is masked on
the way in like every stored text (dispatcher/redact.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from dispatcher.redact import scrub_stored
from schemas.tables import audit_log


class AuditAction(StrEnum):
    PAUSED = "paused"
    RESUMED = "resumed"
    CANCELLED = "cancelled"
    RESOLVED_SENT = "resolved_sent"
    RESOLVED_FAILED = "resolved_failed"
    RESENT = "resent"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    campaign_id: int
    batch_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "campaign_id": self.campaign_id,
            "batch_id": self.batch_id,
            "detail": self.detail,
        }

    def line(self) -> str:
        """One line for a terminal: when, who, what, and the detail."""
        what = self.action.replace("_", " ")
        target = f"batch {self.batch_id}" if self.batch_id is not None else "campaign"
        extra = ", ".join(f"{k}={v}" for k, v in self.detail.items())
        return f"{self.at:%Y-%m-%d %H:%M:%S %Z} {self.actor} {what} {target}" + (
            f" ({extra})" if extra else ""
        )


def record(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction | str,
    campaign_id: int,
    batch_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Write one entry in the caller's transaction; returns its id."""
    clean = {k: scrub_stored(v) if isinstance(v, str) else v for k, v in (detail or {}).items()}
    return int(
        conn.execute(
            insert(audit_log)
            .values(
                actor=actor,
                action=AuditAction(action).value,
                campaign_id=campaign_id,
                batch_id=batch_id,
                detail=clean,
            )
            .returning(audit_log.c.id)
        ).scalar_one()
    )


def for_campaign(conn: Connection, campaign_id: int, limit: int = 50) -> list[AuditEntry]:
    """The campaign's entries (its batches' included), newest first."""
    rows = conn.execute(
        select(audit_log)
        .where(audit_log.c.campaign_id == campaign_id)
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        .limit(limit)
    ).mappings()
    return [_entry(r) for r in rows]


def for_batch(conn: Connection, batch_id: int) -> list[AuditEntry]:
    """The batch's entries, oldest first (the order they happened in)."""
    rows = conn.execute(
        select(audit_log)
        .where(audit_log.c.batch_id == batch_id)
        .order_by(audit_log.c.at, audit_log.c.id)
    ).mappings()
    return [_entry(r) for r in rows]


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        campaign_id=row["campaign_id"],
        batch_id=row["batch_id"],
        detail=dict(row["detail"] or {}),
    )
