"""The worker configuration docs/architecture.md asks for ("Never a recipient silently lost"):
late acks, reject on worker loss, prefetch 1, JSON, time limits, separate queues, beat jobs
from settings."""

from __future__ import annotations

import pytest

from dispatcher.queueing import POLL_TASK, ROUTES, SUBMIT_TASK
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
