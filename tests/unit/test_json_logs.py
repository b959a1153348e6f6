"""DISPATCHER_LOG_FORMAT=json: one redacted JSON object a line, naming the campaign/batch/task."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from dispatcher import log_context
from dispatcher.errors import ConfigurationError
from dispatcher.log_context import ContextFilter
from dispatcher.logs import (
    TEXT_FORMAT,
    RedactingFilter,
    RedactingJsonFormatter,
    RedactingTextFormatter,
    configure_logging,
)
from dispatcher.queueing import PLAN_TASK, POLL_TASK, SUBMIT_TASK, SWEEP_TASK
from dispatcher.settings import load_settings
from workers.log_context import _postrun, _prerun, fields_for


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the product's filters and JSON formatter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingJsonFormatter())
    handler.addFilter(RedactingFilter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("tests.json_logs")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_has_the_agreed_fields(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning("batch %s held", 12)
    [line] = _lines(stream)
    assert (sorted(line), line["level"], line["logger"], line["message"]) == (
        ["level", "logger", "message", "process", "time"],
        "WARNING",
        "tests.json_logs",
        "batch 12 held",
    )


def test_the_log_context_becomes_fields(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    with log_context.bound(campaign_id=3, batch_id=41, task=SUBMIT_TASK):
        logger.info("sent")
    logger.info("after")
    inside, after = _lines(stream)
    assert ((inside["campaign_id"], inside["batch_id"], inside["task"]), "batch_id" in after) == (
        (3, 41, SUBMIT_TASK),
        False,
    )


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://api.smsmode.com/sendSMS.do?accessToken=Ab1CD2efg3Hi&numero=1", "Ab1CD2efg3Hi"),
        ("redis://dispatcher:hunter2@redis:6379/0", "hunter2"),
    ],
)
def test_secrets_are_redacted_in_the_message_fields_and_traceback(
    captured: tuple[logging.Logger, io.StringIO], url: str, secret: str
) -> None:
    logger, stream = captured
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        logger.exception("GET %s failed", url, extra={"url": url})
    raw = stream.getvalue()
    [line] = _lines(stream)
    assert (secret in raw, "***" in line["message"], "***" in line["url"]) == (False, True, True)
    assert "***" in line["exc_info"]


def test_the_text_format_redacts_a_traceback_too() -> None:
    formatter = RedactingTextFormatter(TEXT_FORMAT)
    try:
        raise ConnectionError("GET http://gw/bulksms?username=u&password=p4ss")
    except ConnectionError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "p4ss" not in formatter.format(record)


def test_configure_logging_switches_the_format_of_its_own_handler() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        configure_logging("INFO", "json")
        configure_logging("INFO", "json")
        ours = [h for h in root.handlers if isinstance(h.formatter, RedactingJsonFormatter)]
        configure_logging("INFO", "text")
        assert (len(ours), isinstance(ours[0].formatter, RedactingTextFormatter)) == (1, True)
    finally:
        for handler in [h for h in root.handlers if h not in saved_handlers]:
            root.removeHandler(handler)
        root.setLevel(saved_level)


def test_the_setting_defaults_to_text_and_accepts_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPATCHER_LOG_FORMAT", raising=False)
    default = load_settings(_env_file=None).log_format
    monkeypatch.setenv("DISPATCHER_LOG_FORMAT", "json")
    assert (default, load_settings(_env_file=None).log_format) == ("text", "json")


def test_an_unknown_format_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError, match="DISPATCHER_LOG_FORMAT"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("task", "args", "expected"),
    [
        (PLAN_TASK, [7], {"task": PLAN_TASK, "campaign_id": 7}),
        (SUBMIT_TASK, [12], {"task": SUBMIT_TASK, "batch_id": 12}),
        (POLL_TASK, (13,), {"task": POLL_TASK, "batch_id": 13}),
        (SWEEP_TASK, [], {"task": SWEEP_TASK}),
    ],
)
def test_a_task_names_what_its_id_argument_is(
    task: str, args: list[int], expected: dict[str, object]
) -> None:
    assert fields_for(task, args) == expected


def test_celery_signals_set_the_context_for_the_task_and_undo_it() -> None:
    _prerun(task_id="t-1", task=SimpleNamespace(name=SUBMIT_TASK), args=[99])
    during = dict(log_context.current())
    _postrun(task_id="t-1")
    assert (during, dict(log_context.current())) == ({"task": SUBMIT_TASK, "batch_id": 99}, {})


def test_a_service_adds_the_campaign_for_the_rest_of_its_task_only() -> None:
    _prerun(task_id="t-2", task=SimpleNamespace(name=SUBMIT_TASK), args=[5])
    log_context.add_to_task(campaign_id=2)
    during = dict(log_context.current())
    _postrun(task_id="t-2")
    assert (during, dict(log_context.current())) == (
        {"task": SUBMIT_TASK, "batch_id": 5, "campaign_id": 2},
        {},
    )


def test_outside_a_task_a_service_adds_nothing() -> None:
    log_context.add_to_task(campaign_id=2)
    assert dict(log_context.current()) == {}
