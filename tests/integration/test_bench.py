"""The benchmark keeps working: one run at a tiny size, with a little history (figures are not
asserted: the benchmark measures, tests assert behaviour)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dispatcher.local.servers import ServerUrls
from ops.bench.history import history_database
from ops.bench.run import main

pytestmark = pytest.mark.integration


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    main(
        [
            "--recipients",
            "300",
            "--history",
            "2000",
            "--baseline",
            "40",
            "--callbacks",
            "--callback-recipients",
            "50",
            "--ingestion",
            "400",
            "--redis-db",
            "14",
            "--timeout",
            "120",
            "--json",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    runs = {(run["variant"], run["database"]): run for run in report["runs"]}
    assert runs["poll", "empty"]["recipients"] == 300
    assert runs["poll", "empty"]["history_recipients"] == 0
    assert runs["poll", "history"]["history_recipients"] == 2000
    assert runs["poll", "history"]["http_requests"]["smsmode.send"] == 2  # and the small one
    assert runs["poll", "history"]["small_campaign_s"] is not None
    assert set(report["summary"][-1]["ratio"]) >= {"enqueue_s", "submitted_s", "reported_s"}
    assert runs["callbacks", "empty"]["http_requests"]["smsmode.callbacks_sent"] == 100  # 13, 11
    assert [i["lost"] for i in report["ingestion"]] == [0, 0]
    assert report["ingestion"][0]["recorded"] == 400
    assert report["baseline"]["recipients"] == 40


def test_history_is_finished_campaigns_as_the_pipeline_leaves_them(
    servers: ServerUrls, tmp_path: Path
) -> None:
    with history_database(servers, tmp_path, 3000) as (url, loaded), psycopg.connect(url) as conn:

        def one(sql: str) -> tuple[object, ...]:
            row = conn.execute(sql).fetchone()
            assert row is not None
            return tuple(row)

        campaigns = one("SELECT count(*), sum(recipients), bool_and(state = 'done') FROM campaigns")
        recipients = one(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('delivered', 'failed', 'expired'))"
            ", count(DISTINCT status) FROM recipients"
        )
        events = one(
            "SELECT count(*) FILTER (WHERE e.source = 'submit' AND e.status = 'submitted'),"
            " count(*) FILTER (WHERE e.source = 'poll' AND e.status = r.status)"
            " FROM delivery_events e JOIN recipients r ON r.id = e.recipient_id"
        )
        batches = one("SELECT sum(size), bool_and(state = 'done') FROM batches")
    assert campaigns == (loaded.campaigns, 3000, True)
    assert recipients == (3000, 3000, 3)
    assert events == (3000, 3000)
    assert batches == (3000, True)
