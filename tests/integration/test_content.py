"""Audience and content rules on real PostgreSQL, without workers: send windows with the clock
in the test's hands, STOP mentions, personalised texts, transliteration, estimates."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import CampaignKind
from dispatcher.errors import CampaignValidationError
from dispatcher.persistence.database import Database
from dispatcher.services import maintenance, plan, submit
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")


def _request(**kw: object) -> CampaignRequest:
    base: dict[str, object] = {"account": "mock", "text": "Soldes -20% ce week-end",
                               "recipients": plain_mobiles(3)}  # fmt: skip
    return CampaignRequest(**{**base, **kw})  # type: ignore[arg-type]


def _campaign(world: World, campaign_id: int) -> dict[str, object]:
    with world.deps.db.transaction() as conn:
        row = conn.execute(text("SELECT * FROM campaigns WHERE id = :c"), {"c": campaign_id})
        return dict(row.mappings().one())


def _sent_params(world: World) -> dict[str, list[str]]:
    request = world.requests[-1]
    return parse_qs(
        request.content.decode("iso-8859-15") if request.content else request.url.query.decode()
    )


# -- send windows ---------------------------------------------------------------------------


def test_a_marketing_campaign_enqueued_at_21h_sends_nothing_until_8h(world: World) -> None:
    world.clock.set(datetime(2026, 11, 24, 21, 0, tzinfo=PARIS))  # a Tuesday evening
    campaign_id = enqueue(world.deps, _request(kind=CampaignKind.MARKETING))
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.OUTSIDE_WINDOW
    world.publisher.submitted.clear()
    world.clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=PARIS))
    maintenance.sweep(world.deps)
    assert world.publisher.submitted == []
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.NOT_CLAIMABLE
    assert world.requests == []

    world.clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=PARIS))
    maintenance.sweep(world.deps)
    assert world.publisher.submitted == [batch_id]
    world.answer("0 | Accepted | w1")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert _sent_params(world)["stop"] == ["2"]  # sMsmode adds its own STOP mention


def test_a_notification_campaign_has_no_window(world: World) -> None:
    world.clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=PARIS))
    campaign_id = enqueue(world.deps, _request())
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answer("0 | Accepted | n1")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert "stop" not in _sent_params(world)


def test_a_campaign_may_bring_its_own_window(world: World) -> None:
    world.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=PARIS))  # a Saturday
    campaign_id = enqueue(
        world.deps, _request(options={"window": "Mon-Fri 09:00-18:00 Europe/Paris"})
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.OUTSIDE_WINDOW
    with world.deps.db.transaction() as conn:
        due = conn.execute(
            text("SELECT due_at FROM batches WHERE id = :b"), {"b": batch_id}
        ).scalar_one()
    assert due == datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


def test_a_malformed_window_is_named(world: World) -> None:
    with pytest.raises(CampaignValidationError, match=r"options\.window"):
        enqueue(world.deps, _request(options={"window": "Mon-Sam 08:00-20:00 Europe/Paris"}))


# -- STOP mentions ----------------------------------------------------------------------------


def test_without_a_provider_mention_the_accounts_stop_text_is_appended(database: Database) -> None:
    world = make_world(database, provider="bulkgw", stop_text="STOP au 36180")
    world.clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=PARIS))
    campaign_id = enqueue(world.deps, _request(kind=CampaignKind.MARKETING, sender="SHOP"))
    assert _campaign(world, campaign_id)["text"] == "Soldes -20% ce week-end\nSTOP au 36180"


def test_marketing_to_french_numbers_from_a_custom_sender_needs_a_stop_mention(
    database: Database,
) -> None:
    world = make_world(database, provider="bulkgw")
    with pytest.raises(CampaignValidationError, match="STOP_TEXT"):
        enqueue(world.deps, _request(kind=CampaignKind.MARKETING, sender="SHOP"))
    enqueue(
        world.deps,
        _request(kind=CampaignKind.MARKETING, sender="SHOP", options={"allow_without_stop": True}),
    )
    enqueue(
        world.deps,
        _request(kind=CampaignKind.MARKETING, sender="SHOP", recipients=["+447911123456"]),
    )  # not French: no rule


def test_a_marketing_campaign_stores_its_decided_stop_mention_and_window(world: World) -> None:
    world.clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=PARIS))
    campaign_id = enqueue(world.deps, _request(kind=CampaignKind.MARKETING))
    assert _campaign(world, campaign_id)["options"] == {
        "stop": 2,
        "window": "Mon-Sat 08:00-20:00 Europe/Paris holidays=FR",
    }


# -- personalised texts -----------------------------------------------------------------------


def test_rows_lacking_a_placeholder_are_named(world: World) -> None:
    rows = [
        {"phone": n, "first_name": name}
        for n, name in zip(plain_mobiles(2), ["Ana", "Bo"], strict=True)
    ]
    rows.append({"phone": plain_mobiles(1)[0]})
    with pytest.raises(CampaignValidationError) as raised:
        enqueue(world.deps, _request(text="Bonjour {first_name} !", recipients=rows))
    assert [(p.row, p.message) for p in raised.value.problems] == [(3, "no value for first_name")]


def test_personalised_gsm_texts_go_in_one_smsmode_batch_file(world: World) -> None:
    numbers = plain_mobiles(3)
    rows = [
        {"phone": n, "first_name": name}
        for n, name in zip(numbers, ["Ana", "Bo", "Léa"], strict=True)
    ]
    campaign_id = enqueue(world.deps, _request(text="Bonjour {first_name} !", recipients=rows))
    assert _campaign(world, campaign_id)["options"]["personalised"] == "file"
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answer("0 | Accepted | f1")
    submit.submit_batch(world.deps, batch_id)
    request = world.requests[-1]
    assert request.url.path == "/http/1.6/sendSMSBatch.do"
    body = request.content.decode("iso-8859-15")
    for number, name in zip(numbers, ["Ana", "Bo", "Léa"], strict=True):
        assert f'"{number}","Bonjour {name} !"' in body


def test_personalised_texts_that_need_unicode_are_grouped_by_text(world: World) -> None:
    numbers = plain_mobiles(3)
    rows = [
        {"phone": n, "first_name": name}
        for n, name in zip(numbers, ["Zoë", "Ana", "Zoë"], strict=True)
    ]
    campaign_id = enqueue(world.deps, _request(text="Bonjour {first_name}", recipients=rows))
    assert _campaign(world, campaign_id)["options"]["personalised"] == "grouped"
    with world.deps.db.transaction() as conn:
        batches = dict(
            conn.execute(
                text("SELECT msisdn, batch_seq FROM recipients WHERE campaign_id = :c"),
                {"c": campaign_id},
            ).all()
        )
    assert batches[numbers[0]] == batches[numbers[2]] != batches[numbers[1]]


# -- encodings --------------------------------------------------------------------------------


def test_transliteration_keeps_a_french_text_in_gsm(world: World) -> None:
    source = "L’offre « -20 % » – c’est maintenant !"
    found = estimate(world.deps, _request(text=source, options={"transliterate": True}))
    assert [(t.encoding.value, t.parts) for t in found.texts] == [("gsm", 1)]
    assert ("’", "'") in found.transliterated


def test_without_transliteration_the_characters_that_force_unicode_are_reported(
    world: World,
) -> None:
    found = estimate(world.deps, _request(text="L’offre du jour"))
    assert found.non_gsm == ("’",)
    assert found.texts[0].encoding.value == "unicode"


def test_forcing_gsm_names_the_characters_that_do_not_fit(world: World) -> None:
    with pytest.raises(CampaignValidationError, match="’"):
        enqueue(world.deps, _request(text="L’offre", options={"encoding": "gsm"}))


# -- estimates and balances --------------------------------------------------------------------


def test_an_estimate_counts_recipients_parts_credits_and_writes_nothing(database: Database) -> None:
    world = make_world(database, check_balance=True)
    world.answer("212.5")  # credit.do
    numbers = plain_mobiles(4)
    before = _campaigns(world)
    found = estimate(
        world.deps,
        _request(recipients=[*numbers, numbers[0], "garbage"], invalid="drop", text="x" * 200),
    )
    assert (found.recipients, dict(found.dropped)) == (
        4,
        {"invalid": 1, "duplicates": 1, "opted_out": 0},
    )
    assert (found.parts, found.credits, str(found.balance), found.sufficient) == (
        8,
        8.0,
        "212.5",
        True,
    )
    assert _campaigns(world) == before


def test_an_estimate_of_a_personalised_campaign_writes_nothing(world: World) -> None:
    rows = [
        {"phone": n, "first_name": name}
        for n, name in zip(plain_mobiles(2), ["Zoë", "Ana"], strict=True)
    ]
    before = (_campaigns(world), _recipients(world))
    found = estimate(world.deps, _request(text="Bonjour {first_name}", recipients=rows))
    assert found.distinct_texts == 2
    assert (_campaigns(world), _recipients(world)) == before


def test_a_campaign_the_balance_cannot_cover_is_refused_unless_overridden(
    database: Database,
) -> None:
    world = make_world(database, check_balance=True)
    world.answer("2")
    with pytest.raises(CampaignValidationError, match="needs 3 credits"):
        enqueue(world.deps, _request())
    campaign_id = enqueue(world.deps, _request(options={"ignore_balance": True}))
    assert campaign_id > 0


def _campaigns(world: World) -> int:
    with world.deps.db.transaction() as conn:
        return int(conn.execute(text("SELECT count(*) FROM campaigns")).scalar_one())


def _recipients(world: World) -> int:
    with world.deps.db.transaction() as conn:
        return int(conn.execute(text("SELECT count(*) FROM recipients")).scalar_one())
