"""On real PostgreSQL, without workers: the learnt request limits table, and enqueue not held
up by a provider that refuses connections or does not answer its balance question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dispatcher.persistence import limits as learnt
from dispatcher.persistence.database import Database
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate
from tests.integration.helpers import plain_mobiles
from tests.integration.world import Handler, World, make_world

pytestmark = pytest.mark.integration

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_nothing_is_learnt_for_an_account_never_asked(database: Database) -> None:
    with database.transaction() as conn:
        assert learnt.last_learnt(conn, "never-asked") is None


def test_the_last_answer_replaces_the_one_before(database: Database) -> None:
    with database.transaction() as conn:
        learnt.remember(conn, "told-twice", "500 per 60 minutes", at=AT)
        learnt.remember(conn, "told-twice", "3 per 60 minutes", at=AT + timedelta(hours=1))
    with database.transaction() as conn:
        assert learnt.last_learnt(conn, "told-twice") == "3 per 60 minutes"


@pytest.fixture
def checking(database: Database) -> World:
    """A world whose account checks its balance, its adapter retrying refused connections for
    3 s like a worker's."""
    world = make_world(database, check_balance=True)
    world.deps.adapters("mock").retry_seconds = 3.0
    return world


def _failing(error: Exception) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    return answer


def _request() -> CampaignRequest:
    return CampaignRequest(account="mock", text="Bonjour", recipients=plain_mobiles(3))


def test_enqueue_asks_a_refusing_provider_once_and_goes_on(checking: World) -> None:
    checking.answers.append(_failing(httpx.ConnectError("connection refused")))
    campaign_id = enqueue(checking.deps, _request())
    assert checking.publisher.planned == [campaign_id]
    assert len(checking.requests) == 1


def test_the_estimate_says_why_the_balance_is_unknown(checking: World) -> None:
    checking.answers.append(_failing(httpx.ReadTimeout("timed out")))
    found = estimate(checking.deps, _request())
    assert found.balance is None
    assert "no answer: ReadTimeout" in found.balance_note
    assert found.sufficient is None
