"""The audit trail (persistence/audit.py): every pause, resume, cancel, re-send and archive
writes who did it, in the same transaction as the change; a refused change writes nothing.
The CLI and Python act as ``os:<user>``, the HTTP service as ``key:<name of the bearer key>``.
Service layer on real PostgreSQL; the HTTP application in process (Starlette's TestClient)."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from dispatcher.api.app import create_app
from dispatcher.errors import IllegalTransitionError
from dispatcher.persistence import audit, campaigns, reconcile
from dispatcher.persistence.audit import AuditEntry
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, submit
from dispatcher.services.api_keys import create_key
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.services.retention import archive_campaign
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World

pytestmark = pytest.mark.integration

LATER = datetime.fromisoformat("2031-01-01T09:00:00+01:00")


def _campaign(world: World, *, later: bool = True) -> int:
    return enqueue(
        world.deps,
        CampaignRequest(
            account="mock", text="Hi", recipients=plain_mobiles(3), send_at=LATER if later else None
        ),
    )


def _trail(world: World, campaign_id: int) -> list[AuditEntry]:
    with world.deps.db.transaction() as conn:
        return audit.for_campaign(conn, campaign_id)


def test_pause_and_resume_are_recorded_newest_first_as_the_os_user(world: World) -> None:
    campaign_id = _campaign(world)

    operate.pause_campaign(world.deps, campaign_id)
    operate.resume_campaign(world.deps, campaign_id)

    trail = _trail(world, campaign_id)
    assert [(e.action, e.actor) for e in trail] == [
        ("resumed", f"os:{getpass.getuser()}"),
        ("paused", f"os:{getpass.getuser()}"),
    ]
    assert [e.detail for e in trail] == [{"to": "scheduled"}, {"was": "scheduled"}]


def test_a_cancel_is_recorded_with_the_recipients_it_cancelled(world: World) -> None:
    campaign_id = _campaign(world)

    operate.cancel_campaign(world.deps, campaign_id, actor="os:bob")

    (entry,) = _trail(world, campaign_id)
    assert (entry.actor, entry.action, entry.batch_id) == ("os:bob", "cancelled", None)
    assert entry.detail == {"was": "scheduled", "recipients": 3}


def test_a_refused_change_leaves_no_entry(world: World) -> None:
    campaign_id = _campaign(world)
    operate.cancel_campaign(world.deps, campaign_id)

    with pytest.raises(IllegalTransitionError):
        operate.pause_campaign(world.deps, campaign_id)

    assert [e.action for e in _trail(world, campaign_id)] == ["cancelled"]


def test_a_resend_is_recorded_against_its_batch(world: World) -> None:
    campaign_id = _campaign(world, later=False)
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answer("internal", status=500)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    with world.deps.db.transaction() as conn:
        reconcile.settle(conn, batch_id, "unplaced", {"event": "not-found"})
        campaigns.finish_if_settled(conn, campaign_id)

    operate.resend_batch(world.deps, batch_id, actor="os:dave")

    with world.deps.db.transaction() as conn:
        (entry,) = audit.for_batch(conn, batch_id)
    assert (entry.actor, entry.action, entry.campaign_id) == ("os:dave", "resent", campaign_id)
    assert entry.detail == {"was": "unknown", "requeued": 3}


def test_an_archive_is_recorded(world: World, tmp_path: Path) -> None:
    campaign_id = _campaign(world)
    operate.cancel_campaign(world.deps, campaign_id)

    archive_campaign(world.deps, campaign_id, tmp_path, actor="os:erin")

    newest = _trail(world, campaign_id)[0]
    assert (newest.actor, newest.action) == ("os:erin", "archived")
    assert newest.detail["recipients"] == 3


def test_a_stored_reason_is_masked_like_every_stored_text(world: World) -> None:
    campaign_id = _campaign(world)
    secret = "access_token=abcdef0123456789abcdef"

    with world.deps.db.transaction() as conn:
        audit.record(
            conn,
            actor="os:frank",
            action="resolved_failed",
            campaign_id=campaign_id,
            detail={"reason": f"console said {secret}"},
        )

    (entry,) = _trail(world, campaign_id)
    assert "abcdef0123456789abcdef" not in entry.detail["reason"]


def test_a_pause_through_the_http_service_names_the_key_that_asked(world: World) -> None:
    key = create_key(world.deps, "ops-console")
    api = TestClient(create_app(lambda: world.deps), raise_server_exceptions=False)
    campaign_id = _campaign(world)

    paused = api.post(f"/campaigns/{campaign_id}/pause", headers={"Authorization": f"Bearer {key}"})

    assert paused.status_code == 200, paused.text
    (entry,) = _trail(world, campaign_id)
    assert (entry.actor, entry.action) == ("key:ops-console", "paused")
    assert key not in str(entry.as_dict())


def test_the_campaign_trail_is_limited_and_holds_only_its_campaign(world: World) -> None:
    mine, other = _campaign(world), _campaign(world)
    with world.deps.db.transaction() as conn:
        for _ in range(5):
            audit.record(conn, actor="os:gil", action="paused", campaign_id=mine)
        audit.record(conn, actor="os:gil", action="paused", campaign_id=other)
        found = audit.for_campaign(conn, mine, limit=3)
        ids = conn.execute(
            text("SELECT id FROM audit_log WHERE campaign_id = :c ORDER BY id DESC LIMIT 3"),
            {"c": mine},
        ).scalars()
        assert [e.id for e in found] == list(ids)
    assert {e.campaign_id for e in found} == {mine}
