"""The worker configuration docs/architecture.md asks for ("Never a recipient silently lost"):
late acks, reject on worker loss, prefetch 1, JSON, time limits, separate queues, beat jobs
from settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatcher.local.stack import StackOptions
from dispatcher.queueing import (
    HOUSEKEEPING_QUEUE,
    HOUSEKEEPING_TASKS,
    PLAN_TASK,
    POLL_TASK,
    QUEUES,
    ROUTES,
    SUBMIT_TASK,
)
from dispatcher.settings import Timings
from workers.beat import beat_schedule


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISPATCHER_DATABASE_URL", "postgresql://u@127.0.0.1:1/x")
    monkeypatch.setenv("DISPATCHER_BROKER_URL", "redis://127.0.0.1:1/0")
    from dispatcher.settings import get_settings

    get_settings.cache_clear()
    import importlib

    import workers.app

    yield importlib.reload(workers.app).app
    get_settings.cache_clear()


def test_workers_ack_late_reject_on_loss_and_prefetch_one(app) -> None:  # type: ignore[no-untyped-def]
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_only_json_travels(app) -> None:  # type: ignore[no-untyped-def]
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_tasks_have_time_limits(app) -> None:  # type: ignore[no-untyped-def]
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit > 0


def test_submit_and_poll_have_their_own_queues() -> None:
    assert ROUTES[SUBMIT_TASK]["queue"] == "submit"
    assert ROUTES[POLL_TASK]["queue"] == "poll"


def test_beat_runs_the_sweeper_and_the_reaper_at_the_configured_intervals() -> None:
    schedule = beat_schedule(Timings(sweep_interval_seconds=2, reap_interval_seconds=7))
    assert schedule["sweep"]["schedule"] == 2
    assert schedule["reap"]["schedule"] == 7


ROOT = Path(__file__).resolve().parents[2]
# Every file that starts a Celery worker with ``-Q``, and what checks that its launches cover
# every queue (the test below): a new one must be added there, or its queue goes unconsumed.
WORKER_LAUNCHES = {
    "docker-compose.yml",  # the services' commands, below
    "ops/bench/multihost.py",  # WORKER_QUEUES, below
    "ops/bench/baseline.py",  # its own app and queue, not the product's
    "dispatcher/local/stack.py",  # StackOptions.queues, below
    "dispatcher/cli/run.py",  # ``--queues`` defaults to QUEUES
}


def test_every_way_of_starting_workers_consumes_every_queue() -> None:
    """A queue no worker consumes stops its work without an error: housekeeping's (the sweep,
    the reaper) would stop every campaign."""
    from ops.bench import multihost, pipeline

    compose = (ROOT / "docker-compose.yml").read_text()
    launches = re.findall(r'"worker", "-Q", "([a-z,]+)"', compose)
    assert {q for queues in launches for q in queues.split(",")} == set(QUEUES)
    assert {q for queues, _ in pipeline.WORKERS.values() for q in queues} == set(QUEUES)
    assert {q for queues in multihost.WORKER_QUEUES.values() for q in queues} == set(QUEUES)
    assert StackOptions(data_dir=ROOT).queues == QUEUES


def test_no_other_file_starts_workers_with_queues_of_its_own() -> None:
    found = {
        str(path.relative_to(ROOT))
        for top in ("dispatcher", "workers", "ops", "docker-compose.yml", ".ci", "dev")
        for path in ([ROOT / top] if (ROOT / top).is_file() else (ROOT / top).rglob("*"))
        if path.is_file()
        and path.suffix in ("", ".py", ".yml", ".yaml", ".sh")
        and re.search(r'"-Q"|-Q [a-z]', path.read_text(errors="replace"))
    }
    assert found == WORKER_LAUNCHES


def test_housekeeping_has_its_own_queue_and_the_pipeline_s_tasks_keep_theirs() -> None:
    assert {ROUTES[name]["queue"] for name in HOUSEKEEPING_TASKS} == {HOUSEKEEPING_QUEUE}
    assert [ROUTES[name]["queue"] for name in (PLAN_TASK, SUBMIT_TASK, POLL_TASK)] == [
        "plan",
        "submit",
        "poll",
    ]
