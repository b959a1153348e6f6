"""Turn result rows into the domain's dataclasses (never hand out ORM or Row objects)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from dispatcher.domain.models import Batch, Campaign
from dispatcher.domain.statuses import BatchState, CampaignKind, CampaignState
from dispatcher.domain.text import Encoding

# The one import of providers here: a stored campaign's options are read with its provider's
# model (Provider.options_model), which only the registry can name.
from dispatcher.providers.registry import options_model


def to_campaign(row: RowMapping) -> Campaign:
    return Campaign(
        id=row["id"],
        account=row["account"],
        provider=row["provider"],
        kind=CampaignKind(row["kind"]),
        text=row["text"],
        sender=row["sender"],
        encoding=Encoding(row["encoding"]),
        segments=row["segments"],
        state=CampaignState(row["state"]),
        send_at=row["send_at"],
        batch_size=row["batch_size"],
        method=row["method"],
        options=options_model(row["provider"]).from_stored(row["options"]),
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
    )


def to_batch(row: RowMapping | dict[str, Any]) -> Batch:
    return Batch(
        id=row["id"],
        campaign_id=row["campaign_id"],
        seq=row["seq"],
        size=row["size"],
        state=BatchState(row["state"]),
        attempts=row["attempts"],
        due_at=row["due_at"],
        provider_ref=row["provider_ref"],
        submitted_at=row["submitted_at"],
        last_code=row["last_code"],
        last_message=row["last_message"],
        retries=row["retries"],
    )
