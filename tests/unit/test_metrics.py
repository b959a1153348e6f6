"""The metric catalogue, recording that never raises, and the state collector's output."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dispatcher.breaker import BreakerState
from dispatcher.domain.models import SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.local.embedded import free_port
from dispatcher.metrics import definitions, record
from dispatcher.metrics.codes import bounded_code
from dispatcher.metrics.exporter import registry_for
from dispatcher.metrics.state import StateCollector, circuit_value
from dispatcher.persistence.metrics import StateSnapshot

# The agreed catalogue (the Grafana dashboard is built on these names and labels).
CATALOGUE: dict[str, tuple[str, tuple[str, ...]]] = {
    "dispatcher_provider_requests_total": (
        "counter",
        ("account", "provider", "operation", "outcome"),
    ),
    "dispatcher_recipients_total": ("counter", ("account", "outcome")),
    "dispatcher_provider_answers_total": ("counter", ("account", "provider", "code")),
    "dispatcher_batch_retries_total": ("counter", ("account", "reason")),
    "dispatcher_rate_limit_wait_seconds": ("histogram", ("account",)),
    "dispatcher_report_latency_seconds": ("histogram", ("account", "status")),
    "dispatcher_reports_total": ("counter", ("account", "status", "source")),
    "dispatcher_provider_request_seconds": ("histogram", ("account", "provider", "operation")),
    "dispatcher_tasks_total": ("counter", ("task", "result")),
    "dispatcher_callbacks_received_total": ("counter", ("provider",)),
    "dispatcher_http_requests_total": ("counter", ("route", "status")),
    "dispatcher_scrape_errors_total": ("counter", ("source",)),
    "dispatcher_campaigns": ("gauge", ("state",)),
    "dispatcher_batches": ("gauge", ("state",)),
    "dispatcher_stuck_batches": ("gauge", ("account", "state")),
    "dispatcher_campaign_recipients": ("gauge", ("campaign_id", "account", "status")),
    "dispatcher_scheduled_overdue_seconds": ("gauge", ()),
    "dispatcher_queue_depth": ("gauge", ("queue",)),
    "dispatcher_circuit_open": ("gauge", ("account",)),
    "dispatcher_callback_inbox_pending": ("gauge", ()),
}


def _objects() -> dict[str, Counter | Histogram]:
    found: dict[str, Counter | Histogram] = {}
    for metric in (*definitions.WORKER_METRICS, *definitions.API_METRICS):
        name = metric._name + ("_total" if isinstance(metric, Counter) else "")
        found[name] = metric
    return found


def test_every_catalogue_metric_is_defined_with_its_type_and_labels() -> None:
    objects = _objects()
    defined = {
        **{name: (m._type, tuple(m._labelnames)) for name, m in objects.items()},
        **{name: (kind, labels) for name, (kind, labels, _) in definitions.STATE_METRICS.items()},
    }
    assert defined == CATALOGUE
    assert {name: kind for name, (kind, _) in CATALOGUE.items()} == definitions.CATALOGUE


def test_report_latency_has_the_agreed_buckets() -> None:
    buckets = definitions.REPORT_LATENCY._kwargs["buckets"]
    assert tuple(buckets) == (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


def _sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    found = REGISTRY.get_sample_value(name, labels)
    return found or 0.0


def test_recipients_are_counted_per_destination_when_the_provider_answers_so() -> None:
    before = _sample("dispatcher_recipients_total", account="unit-a", outcome="permanent")
    answers = [SimpleNamespace(outcome=Outcome.PERMANENT)] * 2 + [
        SimpleNamespace(outcome=Outcome.ACCEPTED)
    ]
    result = SendResult(Outcome.ACCEPTED, "0", "ok", recipients=answers)  # type: ignore[arg-type]

    record.submit_step("unit-a", "accepted", result, 3)

    after = _sample("dispatcher_recipients_total", account="unit-a", outcome="permanent")
    assert after == before + 2


def test_a_transient_answer_counts_a_retry() -> None:
    before = _sample("dispatcher_batch_retries_total", account="unit-b", reason="transient")

    record.submit_step("unit-b", "retry", SendResult(Outcome.TRANSIENT, "503", "later"), 5)

    assert _sample("dispatcher_batch_retries_total", account="unit-b", reason="transient") == (
        before + 1
    )


def test_recording_swallows_errors_and_logs_the_first_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Any:
        raise OSError("metrics directory gone")

    monkeypatch.setattr(record, "_metrics", broken)
    monkeypatch.setattr(record, "_failed", set())
    with caplog.at_level(logging.WARNING, logger=record.__name__):
        record.batch_retry("unit-c", "window")
        record.batch_retry("unit-c", "window")
        record.task_done("dispatcher.submit_batch", "accepted")

    assert [r.getMessage() for r in caplog.records] == [
        "metrics: recording batch_retry failed (not again logged)",
        "metrics: recording task_done failed (not again logged)",
    ]


@pytest.mark.parametrize(
    ("code", "status", "label"),
    [
        ("3999", None, "3999"),  # documented by sMsmode
        ("free text from a proxy", None, "unmapped"),
        ("123456", None, "unmapped"),
        (None, 503, "503"),
        (None, None, "none"),
    ],
)
def test_answer_codes_are_bounded(code: str | None, status: int | None, label: str) -> None:
    assert bounded_code("smsmode", code, status) == label


@pytest.mark.parametrize(
    ("state", "retval", "word"),
    [
        ("SUCCESS", "accepted", "accepted"),
        ("SUCCESS", "3 started, 0 published, 1 polls", "ok"),
        ("FAILURE", RuntimeError("boom"), "failure"),
        ("SUCCESS", {"step": "outside-window"}, "outside-window"),
    ],
)
def test_a_tasks_result_is_one_short_word(state: str, retval: object, word: str) -> None:
    assert record.result_word(state, retval) == word


def test_the_circuit_gauge_tells_open_half_open_and_closed() -> None:
    now = 1000.0
    assert circuit_value(BreakerState(), now) == 0
    assert circuit_value(BreakerState(opened_at=900.0), now) == 1
    assert circuit_value(BreakerState(opened_at=900.0, probe_until=1005.0), now) == 0.5


class _Transaction:
    @contextmanager
    def transaction(self) -> Iterator[object]:
        yield object()


class _BrokenDatabase:
    @contextmanager
    def transaction(self) -> Iterator[object]:
        raise OSError("connection refused")
        yield


def _render(collector: StateCollector) -> dict[str, list[Any]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    families = text_string_to_metric_families(generate_latest(registry).decode())
    return {f.name: f.samples for f in families}


def test_the_state_collector_writes_each_family_with_its_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot = StateSnapshot(
        campaigns={"running": 2, "scheduled": 1},
        batches={"pending": 4, "unknown": 1},
        stuck={("main", "unknown"): 1},
        progress={(7, "main"): {"submitted": 10, "delivered": 5}},
        overdue_seconds=42.0,
        inbox_pending=3,
    )
    monkeypatch.setattr("dispatcher.persistence.metrics.read_state", lambda conn: snapshot)
    deps = SimpleNamespace(db=_Transaction(), settings=SimpleNamespace(accounts={}))
    collector = StateCollector(lambda: deps)  # type: ignore[arg-type, return-value]
    monkeypatch.setattr(collector, "_broker", lambda deps: iter(()))

    families = _render(collector)

    progress = {(s.labels["campaign_id"], s.labels["status"]): s.value
                for s in families["dispatcher_campaign_recipients"]}  # fmt: skip
    assert progress == {("7", "submitted"): 10, ("7", "delivered"): 5}
    assert [s.value for s in families["dispatcher_scheduled_overdue_seconds"]] == [42.0]
    assert {s.labels["state"]: s.value for s in families["dispatcher_batches"]}["held"] == 0
    assert families["dispatcher_stuck_batches"][0].labels == {"account": "main", "state": "unknown"}


def test_an_unreadable_database_is_a_scrape_error_not_a_failed_scrape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _sample("dispatcher_scrape_errors_total", source="postgres")
    deps = SimpleNamespace(db=_BrokenDatabase(), settings=SimpleNamespace(accounts={}))
    collector = StateCollector(lambda: deps)  # type: ignore[arg-type, return-value]
    monkeypatch.setattr(collector, "_broker", lambda deps: iter(()))

    families = _render(collector)

    assert "dispatcher_campaigns" not in families
    assert _sample("dispatcher_scrape_errors_total", source="postgres") == before + 1


def test_the_exporter_sums_the_files_of_every_process_and_worker(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
        from dispatcher.metrics import record
        record.task_done("dispatcher.submit_batch", "accepted")
        """
    )
    for worker in ("w1@host", "w1@host", "w2@host"):  # two processes of w1, one of w2
        (tmp_path / worker).mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-c", script, str(tmp_path / worker)], check=True)

    body = generate_latest(registry_for(tmp_path)).decode()

    assert 'dispatcher_tasks_total{result="accepted",task="dispatcher.submit_batch"} 3.0' in body


def test_the_exporter_command_serves_the_workers_directories(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
        from dispatcher.metrics import record
        record.batch_retry("unit-cli", "window")
        """
    )
    (tmp_path / "w1@host").mkdir()
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "w1@host")], check=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env["DISPATCHER_METRICS_DIR"] = str(tmp_path)
    command = [str(Path(sys.executable).parent / "dispatcher"), "exporter", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert f"127.0.0.1:{port}/metrics" in process.stdout.readline()

        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text

        assert 'dispatcher_batch_retries_total{account="unit-cli",reason="window"} 1.0' in body
    finally:
        process.terminate()
        process.wait(timeout=10)
