"""enqueue and estimate: a campaign checked whole, its recipients streamed into PostgreSQL.

Both run the same steps (services.intake) and end their unit of work their own way:

    prepare (no write)     options parsed once, text planned, every problem named
    balance                asked before the transaction, never inside it
    enqueue: transaction   insert (or find the idempotency key's campaign), fill, commit,
                           then wake the planner
    estimate: rollback     insert, fill, always rolled back: nothing is written

Calling enqueue again with the same idempotency key returns the first campaign when the call
is the same: the same parameters (the fingerprint) and the same list, rows in the same order
(the recipients' digest fill recorded). The new list is read and hashed, one row at a time
and outside any transaction, and nothing is written; a difference in either is an
IdempotencyConflictError that says which.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from dispatcher.domain.recipient_digest import digest_of
from dispatcher.errors import (
    AudienceFormatError,
    CampaignValidationError,
    IdempotencyConflictError,
    Problem,
)
from dispatcher.persistence import campaigns
from dispatcher.persistence.campaigns import KeyedCampaign
from dispatcher.services.deps import Deps
from dispatcher.services.estimate import Estimate, known_balance
from dispatcher.services.intake import CampaignRequest, Intake, fill, prepare

__all__ = ["CampaignRequest", "enqueue", "estimate"]

log = logging.getLogger(__name__)


def enqueue(deps: Deps, request: CampaignRequest) -> int:
    """Store the campaign and its recipients, commit, wake the planner; return its id."""
    intake = prepare(deps, request)
    balance = None if intake.options.ignore_balance else known_balance(deps, intake.adapter)[0]
    with deps.db.transaction() as conn:
        campaign_id, known = _open(conn, intake)
        if known is None:
            found = fill(conn, campaign_id, intake)
            _check_balance(replace(found, balance=balance))
    if known is not None:  # read the list once the transaction is over: it may be long
        return _same_campaign(known, intake)
    log.info("campaign %s enqueued: %s recipients on %s, dropped %s",
             campaign_id, found.recipients, found.account, dict(found.dropped))  # fmt: skip
    if _starts_now(intake, deps.clock()):
        _wake_planner(deps, campaign_id)
    return campaign_id


def estimate(deps: Deps, request: CampaignRequest) -> Estimate:
    """What enqueue would do with this request (recipients kept and dropped, texts, parts,
    credits, the balance), or the same CampaignValidationError; nothing is written."""
    intake = prepare(deps, replace(request, idempotency_key=None))
    balance, note = known_balance(deps, intake.adapter)
    with deps.db.rollback_only() as conn:
        campaign_id, _ = _open(conn, intake)
        found = fill(conn, campaign_id, intake)
    return replace(found, balance=balance, balance_note=note)


def _open(conn: Connection, intake: Intake) -> tuple[int, KeyedCampaign | None]:
    """(the new campaign's id, None), or (its id, the campaign its idempotency key names).

    ``insert_campaign`` finds the key taken when a concurrent call with it committed first
    (``ON CONFLICT`` waited for that commit); the next look then sees its campaign.
    """
    key = intake.request.idempotency_key
    while True:
        if key is not None and (existing := campaigns.find_by_key(conn, key)) is not None:
            return existing.id, existing
        campaign_id = campaigns.insert_campaign(conn, intake.row)
        if campaign_id is not None:
            return campaign_id, None


def _check_balance(found: Estimate) -> None:
    if found.sufficient is False:
        needs = f"the campaign needs {found.credits:g} credits"
        has = f"account {found.account!r} has {found.balance}"
        raise CampaignValidationError(
            [Problem("balance", f"{needs} and {has}; option ignore_balance sends anyway")]
        )


def _same_campaign(known: KeyedCampaign, intake: Intake) -> int:
    """``known``'s id when the request is the same call again, else IdempotencyConflictError.

    The parameters are compared first: when they differ the list need not be read. A
    campaign from before migration 0020 has no digest, and its list is taken on trust.
    """
    request = intake.request
    said = f"idempotency key {request.idempotency_key!r} already names campaign {known.id}"
    if known.fingerprint != intake.fingerprint:
        raise IdempotencyConflictError(f"{said} with other parameters")
    if known.recipients_digest is not None and known.recipients_digest != _digest(request):
        raise IdempotencyConflictError(
            f"{said} with other recipients (another list, or its rows in another order)"
        )
    return known.id


def _digest(request: CampaignRequest) -> str:
    try:
        return digest_of(request.recipients)
    except AudienceFormatError as exc:  # as fill would refuse it
        raise CampaignValidationError([Problem("recipients", str(exc))]) from None


def _starts_now(intake: Intake, now: datetime) -> bool:
    send_at = intake.request.send_at
    return intake.options.provider_scheduling or send_at is None or send_at <= now


def _wake_planner(deps: Deps, campaign_id: int) -> None:
    """Best effort: if the broker is down, the sweeper starts the campaign from PostgreSQL."""
    try:
        deps.publisher.plan(campaign_id)
    except Exception:  # the campaign is committed; losing this message loses nothing
        log.warning("could not publish the plan of campaign %s; the sweeper will", campaign_id,
                    exc_info=True)  # fmt: skip
