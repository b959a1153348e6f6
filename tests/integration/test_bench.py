"""The benchmark keeps working: one run at a tiny size (figures are not asserted: the
benchmark measures, tests assert behaviour)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.bench.run import main

pytestmark = pytest.mark.integration


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    main(
        [
            "--recipients",
            "300",
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
    runs = {run["variant"]: run for run in report["runs"]}
    assert runs["poll"]["recipients"] == 300
    assert runs["poll"]["http_requests"]["smsmode.send"] == 1
    assert runs["callbacks"]["http_requests"]["smsmode.callbacks_sent"] == 100  # 13, then 11
    assert [i["lost"] for i in report["ingestion"]] == [0, 0]
    assert report["ingestion"][0]["recorded"] == 400
    assert report["baseline"]["recipients"] == 40
