"""No credential at rest (issue 11, finding 4): what a provider echoes is masked before it is
stored and exported, persistence masks again what reaches it, and migration 0019 cleans what
was stored before."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from sqlalchemy import text

from dispatcher.persistence import batches
from dispatcher.persistence.database import Database
from dispatcher.redact import redact_names
from dispatcher.services import plan, submit
from dispatcher.services.campaigns import export_recipients
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

TOKEN = "Ab1CD2efg3Hi"  # sMsmode's example access key (section 2)
MIGRATION = Path(__file__).parents[2] / "schemas/migrations/versions/0019_scrub_stored_secrets.py"


@pytest.fixture
def world(database: Database) -> World:
    return make_world(database, access_token=TOKEN)


def _sent(world: World, body: str, status: int = 200) -> tuple[int, int]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(3))
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answers.append(lambda request: httpx.Response(status, text=body))
    submit.submit_batch(world.deps, batch_id)
    return campaign_id, batch_id


def _stored(world: World, campaign_id: int) -> str:
    """Every stored text of the campaign, and its CSV export, as one string."""
    with world.deps.db.transaction() as conn:
        texts = conn.execute(
            text(
                "SELECT last_message AS t FROM batches WHERE campaign_id = :c "
                "UNION ALL SELECT provider_text FROM recipients WHERE campaign_id = :c "
                "UNION ALL SELECT raw_text FROM delivery_events WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        ).scalars()
        stored = " ".join(t or "" for t in texts)
    out = io.BytesIO()
    export_recipients(world.deps, campaign_id, out)
    return stored + out.getvalue().decode()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        # Answer code 32 with the request echoed, as the 201 stored lines of the issue.
        (f"32 | Access denied: /http/1.6/sendSMS.do?accessToken={TOKEN}&message=Hi", 200),
        (f"35 | Missing parameter (token {TOKEN})", 200),
        (f"<html><body>Error 500 in sendSMS.do?accessToken={TOKEN}</body></html>", 500),
    ],
    ids=["refused", "bare-token", "error-page"],
)
def test_an_smsmode_answer_echoing_the_token_is_neither_stored_nor_exported(
    world: World, body: str, status: int
) -> None:
    campaign_id, _ = _sent(world, body, status)
    stored = _stored(world, campaign_id)
    assert "***" in stored
    assert TOKEN not in stored


def test_persistence_masks_a_credential_that_did_not_come_through_an_adapter(
    world: World,
) -> None:
    campaign_id, batch_id = _sent(world, "0 | Accepted | ref-rest-1")
    with world.deps.db.transaction() as conn:
        batches.finish(conn, batch_id, f"closed by hand after {TOKEN}")
    assert TOKEN not in _stored(world, campaign_id)


# Texts as they were stored before the scrubber, in every provider's way.
BEFORE = [
    f"32 | Access denied https://api.smsmode.com/http/1.6/sendSMS.do?accessToken={TOKEN}&x=1",
    "1703|bad /bulksms/bulksms?username=X&password=Y&type=0",
    "<request>/message/send?login=33612345678&amp;password=s3cr3t</request>",
    "<authentication><username>u@x.fr</username><password>p&amp;w</password></authentication>",
    '{"accessToken": "Ab1\\"CD", "n": 1}',
    "notification_url=https%3A%2F%2Fd%2Fcb%3Ftoken%3Dabc%26n%3D1",
    "https://d.test/callbacks/smsmode/main/s3cr3t?x=1",
    "http://user:pa55@host/bulksms",
    "Authorization: Basic dXNlcjpwYXNz",
    "11 | delivered, bypass 3 passengers",  # holds no credential: unchanged
]


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0019", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0019_masks_stored_credentials_as_the_scrubber_does(world: World) -> None:
    campaign_id, batch_id = _sent(world, "0 | Accepted | ref-rest-2")
    samples = {f"s{i}": sample for i, sample in enumerate(BEFORE)}
    values = ", ".join(f"(:s{i}, {i})" for i in range(len(BEFORE)))
    with world.deps.db.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO delivery_events (recipient_id, campaign_id, status, raw_text, "
                "source, occurred_at) "
                f"SELECT 0, :c, 'failed', v.t, 'test', now() FROM (VALUES {values}) AS v(t, n)"
            ),
            {"c": campaign_id, **samples},
        )
        conn.execute(
            text("UPDATE batches SET last_message = :s0 WHERE id = :b"),
            {"b": batch_id, "s0": BEFORE[0]},
        )
        for statement in _migration().statements():
            conn.execute(statement)
        after = conn.execute(
            text(
                "SELECT raw_text FROM delivery_events "
                "WHERE campaign_id = :c AND source = 'test' ORDER BY id"
            ),
            {"c": campaign_id},
        ).scalars()
        last = conn.execute(
            text("SELECT last_message FROM batches WHERE id = :b"), {"b": batch_id}
        ).scalar_one()
    assert list(after) == [redact_names(sample) for sample in BEFORE]
    assert last == redact_names(BEFORE[0])
