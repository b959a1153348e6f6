"""The opt-out list: fed by STOP replies and operators, honoured by every later campaign."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from dispatcher.local.stack import LocalStack
from dispatcher.services import opt_outs
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.conftest import CALLBACK_SECRET
from tests.integration.helpers import plain_mobiles, recipient_rows

pytestmark = pytest.mark.integration


def _listed(deps: Deps, msisdn: str) -> list[tuple[str, str]]:
    with deps.db.transaction() as conn:
        rows = conn.execute(
            text("SELECT source, reason FROM opt_outs WHERE msisdn = :m"), {"m": msisdn}
        )
        return [(r.source, r.reason) for r in rows]


def _reply(stack: LocalStack, sender: str, message: str, reply_id: str) -> httpx.Response:
    """sMsmode's reply notification (section 13), as its platform would send it."""
    params = {
        "numero": "36034",
        "message": message,
        "emetteur": sender,
        "date_reception": "22112026-101500",
        "smsID": "abc",
        "responseID": reply_id,
    }
    return httpx.get(
        f"{stack.api_url}/inbound/smsmode/sandbox-push/{CALLBACK_SECRET}", params=params
    )


def test_a_stop_reply_puts_its_sender_on_the_list_once(
    deps: Deps, stack: LocalStack, marker: str
) -> None:
    (sender,) = plain_mobiles(1)
    first = _reply(stack, sender, "STOP", f"r-{marker}")
    again = _reply(stack, sender, "STOP", f"r-{marker}")
    assert (first.text, again.text) == ("OK 1", "OK 0")
    assert _listed(deps, sender) == [("stop-reply", "STOP")]


def test_an_ordinary_reply_is_kept_but_opts_nobody_out(
    deps: Deps, stack: LocalStack, marker: str
) -> None:
    (sender,) = plain_mobiles(1)
    assert _reply(stack, sender, "Merci, à samedi", f"r-{marker}").text == "OK 1"
    assert _listed(deps, sender) == []
    with deps.db.transaction() as conn:
        stored = conn.execute(
            text("SELECT text, opt_out FROM inbound_messages WHERE message_id = :m"),
            {"m": f"r-{marker}"},
        ).one()
    assert tuple(stored) == ("Merci, à samedi", False)


def test_numbers_an_operator_adds_are_left_out_of_the_next_campaign(
    deps: Deps, marker: str
) -> None:
    numbers = plain_mobiles(5)
    national = "0" + numbers[0][2:]
    change = opt_outs.add_numbers(deps, [national, "not a number"], reason="asked by phone")
    assert change.changed == 1
    assert [(row, value) for row, value, _ in change.invalid] == [(2, "not a number")]
    try:
        campaign_id = enqueue(
            deps,
            CampaignRequest(account="sandbox-smsmode", text=f"Opt {marker}", recipients=numbers),
        )
        assert [r["msisdn"] for r in recipient_rows(deps, campaign_id)] == numbers[1:]
        assert campaign_status(deps, campaign_id).dropped["opted_out"] == 1
    finally:
        opt_outs.remove_numbers(deps, [numbers[0]])
