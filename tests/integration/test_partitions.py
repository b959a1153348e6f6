"""A partition per campaign: a big enqueue never blocks running campaigns, and a finished
campaign is archived to files and its partitions dropped (by command and by retention), its
status still answering."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import CampaignState, RecipientStatus
from dispatcher.errors import IllegalTransitionError
from dispatcher.local.sample import french_mobiles
from dispatcher.local.servers import ServerUrls
from dispatcher.persistence import campaigns, partitions, recipients
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.services.intake import fill, prepare
from dispatcher.services.retention import (
    CAMPAIGN_FILE,
    EVENTS_FILE,
    RECIPIENTS_FILE,
    archive_campaign,
    archive_expired,
)
from tests.integration.world import World

pytestmark = pytest.mark.integration

_seeds = iter(range(100, 10_000))


def _campaign(world: World, size: int, *, delivered: int = 0) -> int:
    numbers = list(french_mobiles(size, seed=next(_seeds)))
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=numbers)
    )
    with world.deps.db.transaction() as conn:
        conn.execute(
            text("UPDATE recipients SET batch_seq = 0 WHERE campaign_id = :c"), {"c": campaign_id}
        )
        if delivered:
            conn.execute(
                text(
                    "UPDATE recipients SET status = 'submitted' WHERE campaign_id = :c "
                    "AND row_no <= :n"
                ),
                {"c": campaign_id, "n": delivered},
            )
            recipients.set_campaign_status(
                conn, campaign_id, RecipientStatus.DELIVERED,
                from_statuses=(RecipientStatus.SUBMITTED,), source="poll",
            )  # fmt: skip
    return campaign_id


def _finish(world: World, campaign_id: int, *, ago: timedelta = timedelta(0)) -> None:
    with world.deps.db.transaction() as conn:
        recipients.set_campaign_status(
            conn, campaign_id, RecipientStatus.CANCELLED,
            from_statuses=(RecipientStatus.QUEUED,), source="operator",
        )  # fmt: skip
        conn.execute(
            text("UPDATE campaigns SET state = 'done', finished_at = :at WHERE id = :c"),
            {"c": campaign_id, "at": datetime.now(UTC) - ago},
        )


def test_an_open_enqueue_does_not_block_another_campaigns_updates(world: World) -> None:
    running = _campaign(world, 200)
    intake = prepare(
        world.deps,
        CampaignRequest(
            account="mock", text="Big", recipients=list(french_mobiles(5000, seed=next(_seeds)))
        ),
    )
    with world.deps.db.engine.connect() as enqueuing:
        with enqueuing.begin():
            new = campaigns.insert_campaign(enqueuing, intake.row)
            assert new is not None
            fill(enqueuing, new, intake)  # ends with ATTACH PARTITION; not committed yet
            with world.deps.db.transaction() as other:
                other.execute(text("SET LOCAL lock_timeout = '10s'"))  # fails rather than hangs
                moved = recipients.set_batch_status(
                    other, running, 0, RecipientStatus.SUBMITTED,
                    from_statuses=(RecipientStatus.QUEUED,),
                )  # fmt: skip
                counts = campaigns.recipient_counts(other, running)
            assert moved == 200
            assert counts == {RecipientStatus.SUBMITTED: 200}
        with world.deps.db.transaction() as conn:
            assert partitions.recipients_table(new) in partitions.existing(conn, new)


def test_archive_writes_every_row_then_drops_the_partitions(world: World, tmp_path: Path) -> None:
    campaign_id = _campaign(world, 300, delivered=120)
    _finish(world, campaign_id)

    done = archive_campaign(world.deps, campaign_id, tmp_path)

    assert done.path == tmp_path / f"campaign-{campaign_id}"
    kept = _csv(done.path / RECIPIENTS_FILE)
    assert len(kept) == 300
    assert {row["campaign_id"] for row in kept} == {str(campaign_id)}
    events = _csv(done.path / EVENTS_FILE)
    assert len(events) == 120 + 180  # the delivered ones, then the rest cancelled
    assert json.loads((done.path / CAMPAIGN_FILE).read_text())["id"] == campaign_id
    with world.deps.db.transaction() as conn:
        assert partitions.existing(conn, campaign_id) == []
    assert (done.recipients, done.events) == (300, 300)


def test_an_archived_campaigns_status_still_answers_and_says_so(
    world: World, tmp_path: Path
) -> None:
    campaign_id = _campaign(world, 50, delivered=20)
    _finish(world, campaign_id)
    archive_campaign(world.deps, campaign_id, tmp_path)

    progress = campaign_status(world.deps, campaign_id)

    assert progress.state is CampaignState.DONE
    assert progress.by_status == {RecipientStatus.DELIVERED: 20, RecipientStatus.CANCELLED: 30}
    assert progress.archived_at is not None
    assert progress.as_dict()["archived"]["path"] == str(tmp_path / f"campaign-{campaign_id}")


def test_a_running_campaign_is_not_archived(world: World, tmp_path: Path) -> None:
    campaign_id = _campaign(world, 20)
    with world.deps.db.transaction() as conn:
        campaigns.move(
            conn, campaign_id, from_states={CampaignState.SCHEDULED}, to=CampaignState.RUNNING
        )

    with pytest.raises(IllegalTransitionError, match="is running"):
        archive_campaign(world.deps, campaign_id, tmp_path)
    with world.deps.db.transaction() as conn:
        assert len(partitions.existing(conn, campaign_id)) == 2
    assert not (tmp_path / f"campaign-{campaign_id}").exists()


def _cli(
    servers: ServerUrls, world: World, cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``dispatcher ...`` as an operator runs it, on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env |= {
        "DISPATCHER_DATABASE_URL": world.deps.db.url,
        "DISPATCHER_BROKER_URL": servers.redis_url,
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("dispatcher")), *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_archive_command_archives_a_done_campaign_and_status_says_so(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    campaign_id = _campaign(world, 40, delivered=10)
    _finish(world, campaign_id)

    done = _cli(servers, world, tmp_path, "archive", str(campaign_id), "--to", str(tmp_path))

    assert done.returncode == 0, done.stderr
    assert f"campaign {campaign_id} archived" in done.stdout
    assert len(_csv(tmp_path / f"campaign-{campaign_id}" / RECIPIENTS_FILE)) == 40
    status = _cli(servers, world, tmp_path, "status", str(campaign_id))
    assert status.returncode == 0, status.stderr
    assert "archived" in status.stdout + status.stderr


def test_the_archive_command_refuses_a_running_campaign_naming_its_state(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    campaign_id = _campaign(world, 10)
    with world.deps.db.transaction() as conn:
        campaigns.move(
            conn, campaign_id, from_states={CampaignState.SCHEDULED}, to=CampaignState.RUNNING
        )

    refused = _cli(servers, world, tmp_path, "archive", str(campaign_id), "--to", str(tmp_path))

    assert refused.returncode != 0
    assert "is running" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / f"campaign-{campaign_id}").exists()


def test_retention_archives_only_campaigns_finished_before_it(world: World, tmp_path: Path) -> None:
    old, recent = _campaign(world, 10), _campaign(world, 10)
    _finish(world, old, ago=timedelta(days=3))
    _finish(world, recent, ago=timedelta(hours=1))

    archived = archive_expired(_retention(world, tmp_path, days=2, per_run=50))

    assert [a.campaign_id for a in archived] == [old]
    assert (tmp_path / f"campaign-{old}" / RECIPIENTS_FILE).exists()


def test_retention_archives_a_bounded_number_a_run_oldest_first(
    world: World, tmp_path: Path
) -> None:
    older, old = _campaign(world, 10), _campaign(world, 10)
    _finish(world, older, ago=timedelta(days=5))
    _finish(world, old, ago=timedelta(days=4))
    deps = _retention(world, tmp_path, days=2, per_run=1)

    assert [a.campaign_id for a in archive_expired(deps)] == [older]
    assert [a.campaign_id for a in archive_expired(deps)] == [old]


def test_retention_is_off_by_default(world: World) -> None:
    campaign_id = _campaign(world, 10)
    _finish(world, campaign_id, ago=timedelta(days=3650))

    assert world.deps.settings.retention_days is None
    assert archive_expired(world.deps) == []


def _retention(world: World, directory: Path, *, days: float, per_run: int) -> Deps:
    settings = world.deps.settings.model_copy(
        update={"retention_days": days, "archive_dir": directory, "archive_per_run": per_run}
    )
    return replace(world.deps, settings=settings)


def _csv(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rb") as handle:
        return list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")))
