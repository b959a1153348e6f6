"""Reconciliation of Envoyer SMS Pro sends whose answer was an HTTP 500 (issue 8, finding 5),
through real workers, beat and the sandbox: the message id walk over ``message/stats``
(providers/envoyer_lookup.py) finds a send the sandbox recorded, and proves absent one that
never reached it once a later send closes the gap."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.domain.statuses import CampaignState, RecipientStatus
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_states,
    batches_of,
    fault_on_send,
    plain_mobiles,
    submissions,
    wait_settled,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

PROVIDER = "envoyer"
ACCOUNT = "sandbox-envoyer"


def _campaign(deps: Deps, word: str, count: int) -> int:
    request = CampaignRequest(
        account=ACCOUNT, text=f"Bonjour {word}", recipients=plain_mobiles(count), sender="SHOP"
    )
    return enqueue(deps, request)


def _sent_before(deps: Deps, word: str) -> None:
    """A campaign the account finishes first: its message id is the walk's lower neighbour."""
    wait_settled(deps, _campaign(deps, word, 2))


def test_an_http_500_after_the_provider_recorded_the_send_is_found_and_tracked_once(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    lost = f"{marker}lost"
    _sent_before(deps, f"{marker}before")
    fault_on_send(sandbox, lost, {"type": "accept_then_status", "status": 500}, provider=PROVIDER)

    progress = wait_settled(deps, _campaign(deps, lost, 4))

    assert (progress.state, progress.by_status) == (
        CampaignState.DONE,
        {RecipientStatus.DELIVERED: 4},
    )
    (batch,) = batches_of(deps, progress.campaign_id)
    (accepted,) = submissions(sandbox, lost, PROVIDER)
    assert (batch["reconcile_state"], batch["attempts"], batch["provider_ref"]) == (
        "placed",
        1,
        accepted["id"],
    )


def test_a_send_that_never_reached_the_provider_is_unplaced_with_evidence(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    lost = f"{marker}lost"
    _sent_before(deps, f"{marker}before")
    fault_on_send(sandbox, lost, {"type": "http_status", "status": 500}, provider=PROVIDER)
    campaign_id = _campaign(deps, lost, 4)
    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], what="the send unknown")
    _sent_before(deps, f"{marker}after")  # its id closes the gap above

    progress = wait_settled(deps, campaign_id)

    (batch,) = batches_of(deps, campaign_id)
    assert (progress.state, batch["reconcile_state"], batch["evidence"][-1]["event"]) == (
        CampaignState.NEEDS_ATTENTION,
        "unplaced",
        "not-found",
    )
    assert submissions(sandbox, lost, PROVIDER) == []
