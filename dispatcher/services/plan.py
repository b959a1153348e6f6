"""plan: when a campaign's time comes, create its batches and wake the first of them.

Recipients already carry their batch number (given in input order as they were copied in),
so planning is one INSERT ... SELECT ... GROUP BY, whatever the campaign's size. Only the
campaign's window of batches is published (``queued_batches_per_campaign``); each claim then
publishes the next one, so a big campaign never fills the submit queue ahead of a small one
(docs/architecture.md, "Fairness").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from dispatcher.domain.statuses import CampaignState
from dispatcher.persistence import batches, campaigns
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)


def plan_campaign(deps: Deps, campaign_id: int) -> list[int]:
    """Create the batches of a due campaign and publish its window of them; a second call
    finds it running and does nothing. Returns every batch created."""
    timings = deps.settings.timings
    now = deps.clock()
    with deps.db.transaction() as conn:
        campaign = campaigns.get_campaign(conn, campaign_id, lock=True)
        if campaign.state is not CampaignState.SCHEDULED:
            return []
        if campaign.send_at > now and not campaign.options.provider_scheduling:
            return []  # not due: the sweeper starts it when it is
        batch_ids = batches.create_batches(conn, campaign_id, due_at=now)
        campaigns.move(
            conn, campaign_id, from_states={CampaignState.SCHEDULED}, to=CampaignState.RUNNING
        )
        first = batches.publish_next(
            conn,
            campaign_id,
            now,
            window=timings.queued_batches_per_campaign,
            republish_after=timedelta(seconds=timings.republish_after_seconds),
        )
    log.info("campaign %s planned into %s batches", campaign_id, len(batch_ids))
    deps.publisher.submit(first)
    return batch_ids
