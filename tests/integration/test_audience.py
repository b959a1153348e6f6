"""Audience and personalised texts through real workers and the sandbox."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.services import opt_outs
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate
from tests.integration.helpers import plain_mobiles, submissions, wait_settled

pytestmark = pytest.mark.integration


def test_duplicates_opt_outs_and_invalid_numbers_are_counted_and_only_the_rest_is_sent(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    numbers = plain_mobiles(6)
    opted = numbers[5]
    opt_outs.add_numbers(deps, [opted])
    source = [*numbers, "0" + numbers[0][2:], numbers[1], "not a number", "01 23 45 67 89"]
    try:
        campaign_id = enqueue(
            deps,
            CampaignRequest(
                account="sandbox-smsmode", text=f"Aud {marker}", recipients=source, invalid="drop"
            ),
        )
        progress = wait_settled(deps, campaign_id)
    finally:
        opt_outs.remove_numbers(deps, [opted])
    assert dict(progress.dropped) == {"invalid": 2, "duplicates": 2, "opted_out": 1}
    assert progress.by_status == {RecipientStatus.DELIVERED: 5}
    (accepted,) = submissions(sandbox, marker)
    assert sorted(accepted["numbers"]) == sorted(numbers[:5])


def test_a_personalised_campaign_reaches_each_recipient_with_its_text(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    numbers = plain_mobiles(3)
    names = ["Ana", "Bo", "Léa"]
    rows = [{"mobile": n, "prenom": name} for n, name in zip(numbers, names, strict=True)]
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-smsmode", recipients=rows, text=f"Bonjour {{prenom}}, {marker}"
        ),
    )
    assert campaign_status(deps, campaign_id).state in ("scheduled", "running", "done")
    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.DELIVERED: 3}
    (accepted,) = submissions(sandbox, marker)
    assert accepted["method"] == "POST-batch"
    received = dict(zip(accepted["numbers"], accepted["texts"], strict=True))
    assert received == {
        n: f"Bonjour {name}, {marker}" for n, name in zip(numbers, names, strict=True)
    }


def test_an_estimate_reads_the_providers_balance(deps: Deps, marker: str) -> None:
    found = estimate(
        deps,
        CampaignRequest(
            account="sandbox-smsmode", text=f"Est {marker}", recipients=plain_mobiles(7)
        ),
    )
    assert (found.recipients, found.parts, found.credits) == (7, 7, 7.0)
    assert found.balance is not None
    assert found.sufficient is True
