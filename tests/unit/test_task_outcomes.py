"""What a task's end reads like in Flower (workers/outcomes.py, workers/tasks.py): a batch that
stops unsent or unplaced raises with its reason, a wait succeeds naming its end, every result
names its campaign and batch, and housekeeping stays out of Flower and the log."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime

import pytest
from celery import Celery

from dispatcher.services.submit import SubmitStep
from dispatcher.services.track import PollStep
from workers.outcomes import (
    NOT_SUBMITTED,
    WAITS,
    BatchNote,
    BatchNotSubmittedError,
    PlanRefusedError,
    PollFailedError,
    TaskOutcomeError,
    plan_result,
    poll_result,
    result_word,
    submit_result,
)

NOTE = BatchNote(7, "read timeout", datetime(2026, 12, 5, 8, 0, tzinfo=UTC))


@pytest.mark.parametrize("step", sorted(NOT_SUBMITTED))
def test_a_submit_ending_unknown_held_or_failed_raises_naming_campaign_batch_and_reason(
    step: SubmitStep,
) -> None:
    with pytest.raises(BatchNotSubmittedError) as raised:
        submit_result(42, step, NOTE)
    assert str(raised.value).startswith(f"campaign 7 batch 42: {step.value} (read timeout;")
    assert "dispatcher batch show 42" in str(raised.value)


@pytest.mark.parametrize("step", sorted(set(SubmitStep) - NOT_SUBMITTED))
def test_every_other_submit_step_succeeds_with_a_result_naming_campaign_and_batch(
    step: SubmitStep,
) -> None:
    assert submit_result(42, step, NOTE).startswith(f"campaign 7 batch 42: {step.value}")


@pytest.mark.parametrize("step", sorted(WAITS))
def test_a_wait_names_when_the_batch_is_due_again(step: SubmitStep) -> None:
    assert "due again at 2026-12-05 08:00:00 UTC (read timeout)" in submit_result(42, step, NOTE)


def test_a_batch_gone_from_the_database_still_names_itself() -> None:
    gone = BatchNote(None, None, None)
    assert submit_result(42, SubmitStep.NOT_CLAIMABLE, gone).startswith("campaign ? batch 42:")


def test_a_failed_poll_raises_and_other_poll_steps_succeed() -> None:
    with pytest.raises(
        PollFailedError, match=r"^campaign 7 batch 42: failed \(reports not read, 3 "
    ):
        poll_result(42, PollStep.FAILED, BatchNote(7, None, None, poll_failures=3))
    for step in set(PollStep) - {PollStep.FAILED}:
        assert poll_result(42, step, NOTE) == f"campaign 7 batch 42: {step.value}"


def test_a_plan_names_its_batches_and_refuses_a_campaign_that_does_not_exist() -> None:
    assert plan_result(7, [1, 2, 3], None) == "campaign 7: 3 batches"
    assert plan_result(7, [], "scheduled") == "campaign 7: 0 batches (not due yet)"
    assert plan_result(7, [], "running").startswith("campaign 7: 0 batches (it is running")
    with pytest.raises(PlanRefusedError, match=r"^campaign 7: refused \(no such campaign\)$"):
        plan_result(7, [], None)


def test_the_exception_survives_the_pool_s_pickling_with_its_message() -> None:
    """The pool process hands the exception to the worker's main process, which sends the
    task-failed event: a class that cannot be rebuilt there would lose the reason."""
    with pytest.raises(BatchNotSubmittedError) as raised:
        submit_result(42, SubmitStep.UNKNOWN, NOTE)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (type(copy), str(copy)) == (BatchNotSubmittedError, str(raised.value))


@pytest.mark.parametrize(
    ("retval", "word"),
    [
        ("campaign 7 batch 42: accepted (OK)", "accepted"),
        ("campaign 7 batch 42: outside-window, due again at x", "outside-window"),
        (BatchNotSubmittedError("campaign 7 batch 42: unknown (read timeout; ...)"), "unknown"),
        ("campaign 7: 12 batches", "planned"),
        ("campaign 7: 0 batches (not due yet)", "skipped"),
        (PlanRefusedError("campaign 7: refused (no such campaign)"), "refused"),
        ("3 released, 0 unknown", "other"),
    ],
)
def test_result_word_is_the_outcome_alone_for_a_bounded_metrics_label(
    retval: object, word: str
) -> None:
    assert result_word(retval) == word


def _worker_tasks() -> Celery:
    import workers.tasks  # noqa: F401 (registers the tasks)
    from workers.app import app

    return app


def test_tasks_that_can_fail_list_the_exception_as_expected_and_housekeeping_sends_no_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCHER_DATABASE_URL", "postgresql://u@127.0.0.1:1/x")
    monkeypatch.setenv("DISPATCHER_BROKER_URL", "redis://127.0.0.1:1/0")
    from dispatcher.queueing import HOUSEKEEPING_TASKS, PLAN_TASK, POLL_TASK, SUBMIT_TASK

    app = _worker_tasks()
    for name in (PLAN_TASK, SUBMIT_TASK, POLL_TASK):
        assert app.tasks[name].throws == (TaskOutcomeError,)
        assert app.tasks[name].send_events is True
    assert {name for name in HOUSEKEEPING_TASKS if app.tasks[name].send_events} == set()
    assert app.conf.task_send_sent_event is False
    assert app.conf.task_acks_on_failure_or_timeout is True


def test_celery_s_routine_lines_about_housekeeping_are_dropped_and_others_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCHER_DATABASE_URL", "postgresql://u@127.0.0.1:1/x")
    monkeypatch.setenv("DISPATCHER_BROKER_URL", "redis://127.0.0.1:1/0")
    from workers.tasks import QuietHousekeeping

    def record(level: int, name: str) -> logging.LogRecord:
        args = {"name": name, "id": "x", "runtime": 0.1, "return_value": "r"}
        return logging.LogRecord("celery.app.trace", level, "f", 1, "Task %(name)s", (args,), None)

    quiet = QuietHousekeeping()
    assert quiet.filter(record(logging.INFO, "dispatcher.drain_callbacks")) is False
    assert quiet.filter(record(logging.ERROR, "dispatcher.drain_callbacks")) is True
    assert quiet.filter(record(logging.INFO, "dispatcher.submit_batch")) is True


def test_housekeeping_logs_a_summary_only_when_it_did_something(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DISPATCHER_DATABASE_URL", "postgresql://u@127.0.0.1:1/x")
    monkeypatch.setenv("DISPATCHER_BROKER_URL", "redis://127.0.0.1:1/0")
    from workers.tasks import housekeeping_summary

    with caplog.at_level(logging.INFO, logger="workers.tasks"):
        idle = housekeeping_summary("callbacks", {"recorded": 0, "applied": 0})
        busy = housekeeping_summary("callbacks", {"recorded": 2, "applied": 0})
    assert (idle, busy) == ("0 recorded, 0 applied", "2 recorded, 0 applied")
    assert [r.getMessage() for r in caplog.records] == ["callbacks: 2 recorded, 0 applied"]
