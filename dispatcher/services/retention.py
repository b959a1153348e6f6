"""Retention: a finished campaign archived to files, then its partitions dropped in O(1).

``archive_campaign`` (``dispatcher archive ID --to DIR``) refuses a campaign that is not done
or cancelled. It exports, in one snapshot, the campaign row as JSON and its recipients and
delivery events as gzipped CSV (every column, by id) into ``DIR/campaign-<id>/``, written
under temporary names and renamed once complete; then it records the archive on the campaign
row (``archived_at``, ``archive_path``, its recipients per status, so ``status`` still
answers) and commits; only then are the partitions detached (CONCURRENTLY: running campaigns
are never locked out) and dropped. A crash in between leaves an archived campaign whose
partitions are dropped by the next ``archive_campaign`` of it.

``archive_expired`` (a beat task) does the same for campaigns finished more than
``retention_days`` ago, the oldest ``archive_per_run`` at a time; off unless the setting is set.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection

from dispatcher.domain.statuses import CampaignState
from dispatcher.errors import IllegalTransitionError
from dispatcher.persistence import audit, campaigns, partitions
from dispatcher.persistence.audit import AuditAction
from dispatcher.services.actor import os_actor
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

ARCHIVABLE = (CampaignState.DONE, CampaignState.CANCELLED)
RECIPIENTS_FILE = "recipients.csv.gz"
EVENTS_FILE = "delivery_events.csv.gz"
CAMPAIGN_FILE = "campaign.json"
RETENTION_ACTOR = "system:retention"  # the audit trail's name for the beat's own archiving


@dataclass(frozen=True)
class Archive:
    campaign_id: int
    path: Path
    recipients: int  # rows written (0 when it was archived before)
    events: int
    dropped: tuple[str, ...]  # the partitions dropped by this call


def archive_campaign(
    deps: Deps, campaign_id: int, to: Path, *, actor: str | None = None
) -> Archive:
    """Export a done or cancelled campaign under ``to`` and drop its partitions. ``actor``:
    who, for the audit trail (default the OS user; the beat's own runs say ``system:retention``)."""
    with deps.db.snapshot() as conn:  # the files and the counts from one snapshot
        campaign = campaigns.get_campaign(conn, campaign_id)  # NotFoundError for a wrong id
        earlier = campaigns.archive_of(conn, campaign_id)
        if earlier is None:
            if campaign.state not in ARCHIVABLE:
                raise IllegalTransitionError(
                    f"campaign {campaign_id} is {campaign.state.value}: only a done or "
                    "cancelled campaign can be archived"
                )
            path = to / f"campaign-{campaign_id}"
            counts = campaigns.recipient_counts(conn, campaign_id)
            written = _export(conn, campaign_id, path)
    if earlier is not None:
        dropped = _drop(deps, campaign_id)
        return Archive(campaign_id, Path(earlier[1]), 0, 0, dropped)
    with deps.db.transaction() as conn:
        if not campaigns.mark_archived(conn, campaign_id, str(path.resolve()), counts):
            log.info("campaign %s was archived meanwhile", campaign_id)
        else:
            audit.record(
                conn,
                actor=actor or os_actor(),
                action=AuditAction.ARCHIVED,
                campaign_id=campaign_id,
                detail={"path": str(path.resolve()), "recipients": written[0]},
            )
    dropped = _drop(deps, campaign_id)
    log.info(
        "campaign %s archived to %s: %s recipients, %s events; dropped %s",
        campaign_id, path, written[0], written[1], ", ".join(dropped) or "nothing",
    )  # fmt: skip
    return Archive(campaign_id, path, written[0], written[1], dropped)


def archive_expired(deps: Deps) -> list[Archive]:
    """Archive the campaigns finished more than ``retention_days`` ago, a bounded number a run
    (the oldest first); nothing when retention is off."""
    settings = deps.settings
    if settings.retention_days is None:
        return []
    before = deps.clock() - timedelta(days=settings.retention_days)
    with deps.db.transaction() as conn:
        due = campaigns.archivable(conn, before, settings.archive_per_run)
    done = []
    for campaign_id in due:
        try:
            done.append(
                archive_campaign(deps, campaign_id, settings.archives, actor=RETENTION_ACTOR)
            )
        except IllegalTransitionError:  # reopened meanwhile (an operator's re-send)
            log.info("campaign %s is no longer final; not archived", campaign_id)
    return done


def _export(conn: Connection, campaign_id: int, path: Path) -> tuple[int, int]:
    """Write the three files (temporary names, renamed when complete); (recipients, events)."""
    path.mkdir(parents=True, exist_ok=True)
    row = campaigns.campaign_row(conn, campaign_id)
    _write(path / CAMPAIGN_FILE, json.dumps(row, indent=2, default=str).encode())
    for name, table in ((RECIPIENTS_FILE, partitions.RECIPIENTS), (EVENTS_FILE, partitions.EVENTS)):
        partial = path / f".{name}.partial"
        with gzip.open(partial, "wb") as out:
            partitions.export_table(conn, table, campaign_id, out)
        _settle(partial, path / name)
    return partitions.row_counts(conn, campaign_id)


def _write(target: Path, data: bytes) -> None:
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    _settle(partial, target)


def _settle(partial: Path, target: Path) -> None:
    """Flush ``partial`` to disk, then give it its name: a file under its name is complete."""
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(target)


def _drop(deps: Deps, campaign_id: int) -> tuple[str, ...]:
    with deps.db.engine.connect() as conn:
        autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
        return tuple(partitions.detach_and_drop(autocommit, campaign_id))
