"""A provider's answer is never dropped by a database restart (issue 8, F4). Service layer on
real PostgreSQL, with the World's clock and MockTransport provider, and a database that fails
transactions the way a restarting PostgreSQL does: before they commit (rolled back), or after
(committed, the acknowledgement lost), armed at the moment the test chooses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from dispatcher.domain.models import SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.persistence.database import Database
from dispatcher.services import evidence, maintenance, plan, submit, track
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_row,
    plain_mobiles,
    recipient_numbers,
    recipient_statuses,
)
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration


def _dropped() -> OperationalError:
    return OperationalError("COMMIT", {}, Exception("terminating connection (test)"))


class RestartingDatabase(Database):
    """``drop``: the next transactions fail before they commit; ``lose_ack``: the next ones
    commit, then fail as if the server went away before acknowledging."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.drop = 0
        self.lose_ack = 0

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with super().transaction() as conn:
            yield conn
            if self.drop > 0:
                self.drop -= 1
                raise _dropped()
        if self.lose_ack > 0:
            self.lose_ack -= 1
            raise _dropped()


@dataclass
class ArmingLimiter:
    """Grants every request, arming the database as it does: the next transaction is the one
    that marks the batch as being sent."""

    db: RestartingDatabase
    lose_ack: int = 0

    def acquire(self, account: str, rate: str) -> float:
        self.db.lose_ack, self.lose_ack = self.lose_ack, 0
        return 0.0


@pytest.fixture
def db(database: Database) -> Iterator[RestartingDatabase]:
    restarting = RestartingDatabase(database.url)
    yield restarting
    restarting.dispose()


@pytest.fixture
def world(db: RestartingDatabase) -> World:
    return make_world(db)


def _batch(world: World, count: int = 3) -> tuple[int, int]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(count))
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id


def _then_restart(world: World, db: RestartingDatabase, body: str, **failures: int) -> None:
    """The provider answers ``body``; the database fails as told from that moment."""

    def answer(request: httpx.Request) -> httpx.Response:
        for name, count in failures.items():
            setattr(db, name, count)
        return httpx.Response(200, text=body)

    world.answers.append(answer)


def _lapse_lease(world: World, batch_id: int) -> None:
    with world.deps.db.transaction() as conn:
        conn.execute(
            text("UPDATE batches SET lease_until = now() - interval '1 second' WHERE id = :b"),
            {"b": batch_id},
        )


def _retry_for(world: World, seconds: float) -> None:
    timings = world.deps.settings.timings.model_copy(update={"db_retry_seconds": seconds})
    world.deps.settings = world.deps.settings.model_copy(update={"timings": timings})


def test_an_accepted_answer_is_recorded_once_the_database_is_back(
    world: World, db: RestartingDatabase
) -> None:
    campaign_id, batch_id = _batch(world)
    _then_restart(world, db, "0 | Accepted | ref-after-restart", drop=3)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    row = batch_row(world.deps, batch_id)
    assert (row["state"], row["provider_ref"], row["attempts"]) == (
        "submitted",
        "ref-after-restart",
        1,
    )
    assert recipient_statuses(world.deps, campaign_id) == {"submitted"}
    assert len(world.requests) == 1


def test_an_answer_whose_commit_was_not_acknowledged_is_recorded_once(
    world: World, db: RestartingDatabase
) -> None:
    campaign_id, batch_id = _batch(world)
    _then_restart(world, db, "0 | Accepted | ref-lost-ack", lose_ack=1)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    row = batch_row(world.deps, batch_id)
    assert (row["state"], row["provider_ref"], row["attempts"]) == ("submitted", "ref-lost-ack", 1)
    assert recipient_statuses(world.deps, campaign_id) == {"submitted"}


def test_a_transient_answer_whose_commit_was_not_acknowledged_is_paced_once(
    world: World, db: RestartingDatabase
) -> None:
    _, batch_id = _batch(world)
    _then_restart(world, db, "50 | Temporarily unavailable", lose_ack=1)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RETRY
    row = batch_row(world.deps, batch_id)
    assert (row["state"], row["attempts"], row["retries"]) == ("pending", 0, 1)


def test_a_claim_lost_to_a_dropped_connection_is_retried_at_once(
    world: World, db: RestartingDatabase
) -> None:
    _, batch_id = _batch(world)
    world.answer("0 | Accepted | ref-claim-retried")
    db.drop = 2
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert batch_row(world.deps, batch_id)["state"] == "submitted"


def test_a_claim_whose_commit_was_not_acknowledged_is_taken_again_by_its_worker(
    world: World, db: RestartingDatabase
) -> None:
    _, batch_id = _batch(world)
    world.answer("0 | Accepted | ref-claim-lost-ack")
    db.lose_ack = 1
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert len(world.requests) == 1


def test_another_workers_claim_is_never_taken(world: World) -> None:
    _, batch_id = _batch(world)
    with world.deps.db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE batches SET state = 'claimed', worker = 'other', "
                "lease_until = now() + interval '1 minute' WHERE id = :b"
            ),
            {"b": batch_id},
        )
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.NOT_CLAIMABLE
    assert world.requests == []


def test_marking_sending_whose_commit_was_not_acknowledged_sends_once_and_records(
    world: World, db: RestartingDatabase
) -> None:
    _, batch_id = _batch(world)
    world.deps.limiter = ArmingLimiter(db, lose_ack=1)
    world.answer("0 | Accepted | ref-marked")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    row = batch_row(world.deps, batch_id)
    assert (row["state"], row["provider_ref"], row["attempts"]) == ("submitted", "ref-marked", 1)
    assert len(world.requests) == 1


def test_an_answer_the_database_never_took_is_kept_as_evidence(
    world: World, db: RestartingDatabase
) -> None:
    _, batch_id = _batch(world)
    _retry_for(world, 0.5)
    _then_restart(world, db, "0 | Accepted | ref-kept", drop=1000)
    with pytest.raises(OperationalError):
        submit.submit_batch(world.deps, batch_id)
    db.drop = 0
    kept = evidence.find(world.deps, batch_id)
    assert kept is not None
    assert (kept.attempt, kept.worker, kept.result.provider_ref) == (1, "test-worker", "ref-kept")
    assert batch_row(world.deps, batch_id)["state"] == "sending"


def test_the_reaper_records_a_kept_answer_instead_of_guessing_unknown(
    world: World, db: RestartingDatabase
) -> None:
    campaign_id, batch_id = _batch(world)
    _retry_for(world, 0.5)
    _then_restart(world, db, "0 | Accepted | ref-replayed", drop=1000)
    with pytest.raises(OperationalError):
        submit.submit_batch(world.deps, batch_id)
    db.drop = 0  # the database is back
    _lapse_lease(world, batch_id)
    report = maintenance.reap(world.deps)
    assert (report.replayed, report.unknown) == ([batch_id], [])
    row = batch_row(world.deps, batch_id)
    assert (row["state"], row["provider_ref"]) == ("submitted", "ref-replayed")
    assert row["next_poll_at"] is not None
    assert recipient_statuses(world.deps, campaign_id) == {"submitted"}
    assert evidence.find(world.deps, batch_id) is None


def test_an_answer_kept_by_another_sender_is_not_replayed(world: World) -> None:
    campaign_id, batch_id = _batch(world)
    with world.deps.db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE batches SET state = 'sending', attempts = 1, worker = 'new-sender', "
                "lease_until = now() - interval '1 second' WHERE id = :b"
            ),
            {"b": batch_id},
        )
    stale = SendResult(Outcome.ACCEPTED, code="0", description="Accepted", provider_ref="old")
    evidence.keep(world.deps, evidence.Evidence(batch_id, 1, "old-sender", stale))
    report = maintenance.reap(world.deps)
    assert (report.replayed, report.unknown) == ([], [batch_id])
    assert recipient_statuses(world.deps, campaign_id) == {"unknown"}


def test_a_poll_answer_is_applied_once_the_database_is_back(
    world: World, db: RestartingDatabase
) -> None:
    campaign_id, batch_id = _batch(world, count=2)
    world.answer("0 | Accepted | ref-polled")
    submit.submit_batch(world.deps, batch_id)
    numbers = sorted(recipient_numbers(world.deps, campaign_id))
    _then_restart(world, db, f"{numbers[0]} 11 | {numbers[1]} 11", drop=2)
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED
    assert recipient_statuses(world.deps, campaign_id) == {"delivered"}
    assert batch_row(world.deps, batch_id)["state"] == "done"
