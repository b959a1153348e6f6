"""The baseline a user would otherwise write: one Celery task per recipient.

Same broker, database and sandbox as the pipeline: a ``send_one`` task reads its recipient,
sends one SMS by POST, records the smsID in its own transaction and publishes a ``poll_one``
task, which asks for that SMS's report and records it. Run as a worker with
``celery -A ops.bench.baseline worker -Q baseline``; ``run_baseline`` drives it.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from celery import Celery
from sqlalchemy import text

from dispatcher.local.processes import log_contains, python, start_process
from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence.database import Database
from dispatcher.runtime import build_deps
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import settings_from_env
from ops.bench.pipeline import ACCOUNT, SANDBOX, TEXT

QUEUE = "baseline"
app = Celery("baseline", broker=os.environ.get("DISPATCHER_BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
)

_db: Database | None = None
_client: httpx.Client | None = None


def _resources() -> tuple[Database, httpx.Client]:
    global _db, _client
    if _db is None or _client is None:
        _db = Database(os.environ["DISPATCHER_DATABASE_URL"], pool_size=1)
        _client = httpx.Client(timeout=30)
    return _db, _client


SANDBOX_URL = os.environ.get("BASELINE_SANDBOX_URL", "")


@app.task(name="baseline.send_one")
def send_one(campaign_id: int, recipient_id: int) -> None:
    # By campaign and id: the campaign's partition, then its primary key.
    db, client = _resources()
    key = {"c": campaign_id, "id": recipient_id}
    with db.transaction() as conn:
        msisdn = conn.execute(
            text("SELECT msisdn FROM recipients WHERE campaign_id = :c AND id = :id"), key
        ).scalar_one()
    answer = client.post(
        f"{SANDBOX_URL}/http/1.6/sendSMS.do",
        data={"accessToken": "sandbox-token", "message": TEXT, "numero": msisdn},
    )
    sms_id = answer.text.split("|")[2].strip()
    with db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE recipients SET status = 'submitted', provider_message_id = :s "
                "WHERE campaign_id = :c AND id = :id"
            ),
            {"s": sms_id, **key},
        )
    poll_one.delay(campaign_id, recipient_id)


@app.task(name="baseline.poll_one")
def poll_one(campaign_id: int, recipient_id: int) -> None:
    db, client = _resources()
    key = {"c": campaign_id, "id": recipient_id}
    with db.transaction() as conn:
        sms_id = conn.execute(
            text("SELECT provider_message_id FROM recipients WHERE campaign_id = :c AND id = :id"),
            key,
        ).scalar_one()
    answer = client.get(
        f"{SANDBOX_URL}/http/1.6/compteRendu.do",
        params={"accessToken": "sandbox-token", "smsID": sms_id},
    )
    code = answer.text.split()[-1]
    with db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE recipients SET status = :s, provider_code = :code "
                "WHERE campaign_id = :c AND id = :id"
            ),
            {"s": "delivered" if code == "11" else "submitted", "code": code, **key},
        )


def run_baseline(
    servers: ServerUrls,
    numbers: list[str],
    work_dir: Path,
    concurrency: int = 6,
    timeout: float = 600.0,
) -> dict[str, float]:
    """Per-recipient tasks for ``numbers``: seconds until all sent and until all reported."""
    with fresh_database(servers.admin_url, prefix="dispatcher_baseline") as url:
        options = StackOptions(
            data_dir=work_dir,
            database_url=url,
            broker_url=servers.redis_url,
            sandbox_config=SANDBOX,
            workers=0,
            beat=False,
        )
        with LocalStack(options) as stack:
            env = {**stack.env, "BASELINE_SANDBOX_URL": stack.sandbox_url or ""}
            worker = start_process(
                "worker-baseline",
                [
                    python(),
                    "-m",
                    "celery",
                    "-A",
                    "ops.bench.baseline",
                    "worker",
                    "-Q",
                    QUEUE,
                    "-c",
                    str(concurrency),
                    "-n",
                    f"baseline-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "INFO",
                ],
                env={**env, "PYTHONPATH": str(Path.cwd())},
                log_dir=stack.log_dir,
                ready=log_contains("ready."),
            )
            stack.processes.append(worker)
            deps = build_deps(settings_from_env(stack.env))
            # The rows exist as they would for the pipeline (same COPY); the campaign is
            # scheduled far ahead so that the pipeline's own workers (none here) stay out.
            campaign_id = enqueue(
                deps,
                CampaignRequest(
                    account=ACCOUNT,
                    text=TEXT,
                    recipients=numbers,
                    send_at=_far_future(),
                ),
            )
            with deps.db.transaction() as conn:
                ids = list(
                    conn.execute(
                        text("SELECT id FROM recipients WHERE campaign_id = :c"), {"c": campaign_id}
                    ).scalars()
                )
            app.conf.update(broker_url=servers.redis_url)
            started = time.monotonic()
            with app.producer_or_acquire() as producer:
                for recipient_id in ids:
                    send_one.apply_async(args=(campaign_id, recipient_id), producer=producer)
            sent = _wait(deps, campaign_id, "queued", started + timeout)
            reported = _wait(deps, campaign_id, "submitted", started + timeout)
            deps.db.dispose()
    return {
        "recipients": len(numbers),
        "submitted_s": sent - started,
        "reported_s": reported - started,
        "concurrency": concurrency,
    }


def _far_future() -> datetime:
    return datetime.now(UTC) + timedelta(days=365)


def _wait(deps: Deps, campaign_id: int, status: str, deadline: float) -> float:
    query = text(
        "SELECT count(*) FROM recipients WHERE campaign_id = :c AND status IN ('queued', :s)"
    )
    while time.monotonic() < deadline:
        with deps.db.transaction() as conn:
            if conn.execute(query, {"c": campaign_id, "s": status}).scalar_one() == 0:
                return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError("baseline did not finish in time")
